/**
 * The authentication and authorization hook of the MQTT front-end. The default allows everything; the node plugs
 * in users and ACLs from the MetaStore (runtime/core/auth/mqtt-hooks.ts). Each hook may answer synchronously (the
 * fast path: no promise per message) or with a promise.
 */

export interface AuthClient {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
  readonly protocolVersion: number;
  /** The common name of the client's TLS certificate, when the server verified it against --tls-ca. */
  readonly certificateUser?: string | undefined;
}

export type AuthResult = boolean | Promise<boolean>;

/**
 * What CONNECT authentication decided: true accepts the connection under the user name it sent; `{ user }` accepts
 * it as that user (e.g. the CN of a verified client certificate); false or 'bad-credentials' refuses it with CONNACK
 * 0x86 (v5) / 4 (3.1.1); 'not-authorized' (no credentials where they are required) with 0x87 / 5.
 */
export type ConnectVerdict = boolean | 'bad-credentials' | 'not-authorized' | { readonly user: string };

export interface MqttAuthHooks {
  authenticate(client: AuthClient, username: string | undefined, password: Buffer | undefined): ConnectVerdict | Promise<ConnectVerdict>;
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
