/**
 * The protocol-neutral vocabulary of authentication and authorization: who is asking (a principal), what they
 * want to do (an action) and to what (a resource). MQTT and Kafka front-ends translate their requests into these.
 */

/** `off`: anyone may connect and ACLs are not enforced. `on`: credentials are required and ACLs apply. */
export const AUTH_MODES = ['off', 'on'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** An authenticated (or, with auth off, anonymous) client. */
export interface Principal {
  /** The user name; null for an anonymous client (only possible with auth off). */
  readonly user: string | null;
  /** MQTT client identifier or Kafka client.id, when known: the `%c` of MQTT ACL filters. */
  readonly clientId?: string;
  /** How the principal proved who it is: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, TLS (client certificate), password. */
  readonly mechanism?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ user: null });

/**
 * What a principal may be allowed or denied. MQTT: publish, subscribe (resource type `mqtt`). Kafka: produce,
 * consume, create, delete, alter on topics; consume, delete on groups; produce (idempotent write) and alter on the
 * cluster.
 */
export const ACL_ACTIONS = ['publish', 'subscribe', 'produce', 'consume', 'create', 'delete', 'alter'] as const;
export type AclAction = (typeof ACL_ACTIONS)[number];

export const RESOURCE_TYPES = ['mqtt', 'topic', 'group', 'cluster'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** `mqtt`: an MQTT topic name (publish) or filter (subscribe). `topic`/`group`: a Kafka name. `cluster`: name ''. */
export interface Resource {
  readonly type: ResourceType;
  readonly name: string;
}

/** Which actions make sense on which resource type; rules outside this table are rejected. */
export const ACTIONS_BY_TYPE: Readonly<Record<ResourceType, readonly AclAction[]>> = {
  mqtt: ['publish', 'subscribe'],
  topic: ['produce', 'consume', 'create', 'delete', 'alter'],
  group: ['consume', 'delete'],
  cluster: ['produce', 'alter'],
};

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** RFC 5802 credentials as stored: the server never keeps the password or SaltedPassword. Binary values in base64. */
export interface ScramCredential {
  readonly salt: string;
  readonly iterations: number;
  readonly storedKey: string;
  readonly serverKey: string;
}

/** A salted scrypt hash (RFC 7914) of a password; binary values in base64. */
export interface PasswordHash {
  readonly scheme: 'scrypt';
  readonly salt: string;
  readonly hash: string;
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

/** A user as kept in the MetaStore namespace 'users', keyed by name. */
export interface UserRecord {
  readonly name: string;
  readonly createdAt: number;
  readonly password: PasswordHash;
  readonly scram: Readonly<Record<ScramMechanism, ScramCredential>>;
}

/** A user as shown by the admin API: never any hash or key. */
export interface UserSummary {
  readonly name: string;
  readonly createdAt: number;
  readonly mechanisms: readonly string[];
}
