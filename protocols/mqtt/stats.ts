/**
 * Traffic counters of the MQTT front-end. The hot path bumps plain numbers; they are folded into the node's
 * Prometheus metrics (label protocol="mqtt") once a second and at shutdown, because a labelled prom-client
 * increment per message costs more than the rest of a QoS 0 delivery.
 */
import type { Metrics } from '../../runtime/metrics.js';

const LABELS = { protocol: 'mqtt' } as const;

export class MqttStats {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  droppedTotal = 0;
  readonly startedAt = Date.now();
  private readonly droppedBy = new Map<string, number>();
  private flushed = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly metrics: Metrics) {}

  onBytesOut(bytes: number): void {
    this.bytesOut += bytes;
  }

  dropped(reason: string): void {
    this.droppedTotal++;
    this.droppedBy.set(reason, (this.droppedBy.get(reason) ?? 0) + 1);
  }

  start(): void {
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }

  flush(): void {
    const m = this.metrics;
    const f = this.flushed;
    if (this.messagesIn > f.messagesIn) m.messagesIn.inc(LABELS, this.messagesIn - f.messagesIn);
    if (this.messagesOut > f.messagesOut) m.messagesOut.inc(LABELS, this.messagesOut - f.messagesOut);
    if (this.bytesIn > f.bytesIn) m.bytesIn.inc(LABELS, this.bytesIn - f.bytesIn);
    if (this.bytesOut > f.bytesOut) m.bytesOut.inc(LABELS, this.bytesOut - f.bytesOut);
    this.flushed = { messagesIn: this.messagesIn, messagesOut: this.messagesOut, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
    for (const [reason, n] of this.droppedBy) m.droppedMessages.inc({ protocol: 'mqtt', reason }, n);
    this.droppedBy.clear();
  }
}
