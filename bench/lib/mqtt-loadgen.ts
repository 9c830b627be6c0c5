/**
 * Load-generator process for the MQTT suite (forked by the controller, never in the broker's process).
 * IPC: setup → ready, go, snapshot → snapshot (any number of times), stop → exit.
 */
import { performance } from 'node:perf_hooks';
import { LoadClient } from './mqtt-client.js';
import { emptyCounters, groupTopic, type ControlCommand, type SetupCommand } from './mqtt-protocol.js';

const counters = emptyCounters();
const clients: LoadClient[] = [];

function send(message: object): void {
  process.send?.(message);
}

async function setup(cmd: SetupCommand): Promise<void> {
  const started = performance.now();
  const pending: Array<() => LoadClient> = [];
  for (const group of cmd.groups) {
    for (let i = 0; i < group.count; i++) {
      pending.push(
        () =>
          new LoadClient(
            {
              port: cmd.port,
              clientId: `${group.clientIdPrefix}${i}`,
              role: group.role,
              topic: groupTopic(group, i),
              qos: group.qos,
              payloadBytes: group.payloadBytes,
              inflight: group.inflight,
            },
            counters,
          ),
      );
    }
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pending.length) {
      const client = pending[next++]();
      clients.push(client);
      await client.open();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, worker));
  send({ type: 'ready', connected: clients.length, setupMs: performance.now() - started });
}

function snapshot(): void {
  send({ type: 'snapshot', at: performance.now(), ...counters });
}

process.on('message', (raw: unknown) => {
  const cmd = raw as ControlCommand;
  switch (cmd.type) {
    case 'setup':
      setup(cmd).catch((err: unknown) => send({ type: 'error', message: (err as Error).message }));
      break;
    case 'go':
      for (const c of clients) c.start();
      break;
    case 'snapshot':
      snapshot();
      break;
    case 'stop':
      for (const c of clients) c.close();
      process.exit(0);
  }
});

process.on('disconnect', () => process.exit(0));
