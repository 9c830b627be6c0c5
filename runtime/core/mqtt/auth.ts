/**
 * The authentication and authorization hook of the MQTT front-end. The default allows everything; a later issue
 * plugs in users and ACLs from the MetaStore. Each hook may answer synchronously (the fast path: no promise per
 * message) or with a promise.
 */

export interface AuthClient {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
  readonly protocolVersion: number;
}

export type AuthResult = boolean | Promise<boolean>;

export interface MqttAuthHooks {
  /** false refuses the connection: CONNACK 0x86 (v5) / 4 (3.1.1). */
  authenticate(client: AuthClient, username: string | undefined, password: Buffer | undefined): AuthResult;
  /** false drops the message: PUBACK/PUBREC 0x87 in v5, silently in 3.1.1. */
  authorizePublish(client: AuthClient, topic: string): AuthResult;
  /** false refuses the filter: SUBACK 0x87 in v5, 0x80 in 3.1.1. */
  authorizeSubscribe(client: AuthClient, filter: string): AuthResult;
}

export const allowAll: MqttAuthHooks = {
  authenticate: () => true,
  authorizePublish: () => true,
  authorizeSubscribe: () => true,
};
