/** The connected clients of this node, across protocols, for the admin API and $SYS statistics. */
import type { ProtocolName } from '../metrics.js';

export interface ClientInfo {
  /** Unique per connection within this node. */
  connectionId: number;
  protocol: ProtocolName;
  remoteAddress: string;
  connectedAt: number;
  /** MQTT client identifier or Kafka client.id, once known. */
  clientId?: string;
  username?: string;
  /** Protocol details (MQTT protocol level, Kafka client software, ...). */
  details?: Record<string, unknown>;
}

export class ClientRegistry {
  private nextId = 1;
  private readonly clients = new Map<number, ClientInfo>();

  add(info: Omit<ClientInfo, 'connectionId' | 'connectedAt'>): ClientInfo {
    const client: ClientInfo = { ...info, connectionId: this.nextId++, connectedAt: Date.now() };
    this.clients.set(client.connectionId, client);
    return client;
  }

  remove(connectionId: number): void {
    this.clients.delete(connectionId);
  }

  list(protocol?: ProtocolName): ClientInfo[] {
    const all = [...this.clients.values()];
    return protocol ? all.filter((c) => c.protocol === protocol) : all;
  }

  count(protocol?: ProtocolName): number {
    return protocol ? this.list(protocol).length : this.clients.size;
  }
}
