/**
 * `$SYS/broker/...` statistics topics, published retained every interval the way Mosquitto does, so a client that
 * subscribes to `$SYS/#` sees the current values at once.
 */
import { createMessage } from '../../runtime/core/mqtt/message.js';
import type { MqttBroker } from './broker.js';

const VERSION = 'robustmq 0.1.0';

export function sysValues(broker: MqttBroker): Record<string, string> {
  const s = broker.stats;
  const connected = broker.connectedCount();
  const sessions = broker.sessions.size;
  return {
    version: VERSION,
    uptime: `${Math.floor((Date.now() - s.startedAt) / 1000)} seconds`,
    'clients/connected': String(connected),
    'clients/disconnected': String(sessions - broker.onlineSessions()),
    'clients/total': String(sessions),
    'clients/maximum': String(broker.limits.maxConnections),
    'messages/received': String(s.messagesIn),
    'messages/sent': String(s.messagesOut),
    'publish/messages/dropped': String(s.droppedTotal),
    'bytes/received': String(s.bytesIn),
    'bytes/sent': String(s.bytesOut),
    'subscriptions/count': String(broker.router.trie.size),
    'retained messages/count': String(broker.retained.size),
  };
}

export class SysPublisher {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly broker: MqttBroker) {}

  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.publish();
    this.timer = setInterval(() => this.publish(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  publish(): void {
    for (const [name, value] of Object.entries(sysValues(this.broker))) {
      void this.broker.router.publish(createMessage(`$SYS/broker/${name}`, Buffer.from(value), 0, true));
    }
  }
}
