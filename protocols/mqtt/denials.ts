/**
 * ACL refusals of PUBLISH and SUBSCRIBE are logged at info (3.1.1 clients are not told a publish was dropped, so the
 * log is where an operator learns of it), at most one line a second per broker: a client repeating a refused
 * publish in a loop must not flood the log. The line counts the refusals left out since the previous one.
 */
import type { MqttBroker } from './broker.js';

const INTERVAL_MS = 1000;

interface State {
  last: number;
  suppressed: number;
}

const states = new WeakMap<MqttBroker, State>();

export interface DeniedClient {
  readonly broker: MqttBroker;
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
}

export function logDenial(conn: DeniedClient, action: 'publish' | 'subscribe', name: string): void {
  let state = states.get(conn.broker);
  if (!state) states.set(conn.broker, (state = { last: 0, suppressed: 0 }));
  const now = Date.now();
  if (now - state.last < INTERVAL_MS) {
    state.suppressed++;
    return;
  }
  const fields = { clientId: conn.clientId, username: conn.username, remote: conn.remoteAddress, action, [action === 'publish' ? 'topic' : 'filter']: name, suppressed: state.suppressed };
  conn.broker.ctx.log.info(fields, `mqtt: ${action} refused by ACL`);
  state.last = now;
  state.suppressed = 0;
}
