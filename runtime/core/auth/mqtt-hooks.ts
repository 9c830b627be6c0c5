/**
 * The MQTT front-end's auth hooks (runtime/core/mqtt/auth.ts) backed by the node's AuthService: CONNECT checks the
 * user's password (or takes a verified TLS client certificate's CN as the user), PUBLISH and SUBSCRIBE go through the
 * ACLs with `%u` / `%c` filled from the connection. Checks are synchronous except the password check, so the
 * per-message path allocates no promise. The client's address goes to the login guard (login-guard.ts).
 *
 *   createMqttServer(ctx, { auth: mqttAuthHooks(authOf(ctx)) })   // after `await authOf(ctx).start()`
 */
import type { AuthClient, MqttAuthHooks } from '../mqtt/auth.js';
import { TooManyFailedLogins } from './login-guard.js';
import type { AuthService } from './service.js';
import type { Principal } from './types.js';

const principals = new WeakMap<AuthClient, Principal>();

/** The principal of an MQTT connection: its user name (authenticated when auth is on) and client id. */
export function mqttPrincipal(client: AuthClient): Principal {
  let principal = principals.get(client);
  if (!principal || principal.user !== (client.username ?? null) || principal.clientId !== client.clientId) {
    principal = { user: client.username ?? null, clientId: client.clientId };
    principals.set(client, principal);
  }
  return principal;
}

export function mqttAuthHooks(auth: AuthService): MqttAuthHooks {
  return {
    authenticate: (client, username, password) => {
      if (!auth.enabled) return true;
      // A verified client certificate stands for its common name when no user name is sent, as for Kafka over SSL.
      if (!username && client.certificateUser !== undefined) return { user: client.certificateUser };
      // No credentials: CONNACK 0x87 / 5 (not authorized); wrong ones: false, i.e. 0x86 / 4 (bad user name or password).
      // An address refused by the login guard: TooManyFailedLogins, which the CONNECT handler answers (0x8A / 5).
      return auth.authenticate(username, password, client.remoteAddress, 'mqtt').then((o) => {
        if (o.ok) return true;
        if (o.reason === 'too-many-failures') throw new TooManyFailedLogins(client.remoteAddress);
        return o.reason === 'missing-credentials' ? 'not-authorized' : false;
      });
    },
    authorizePublish: (client, topic) => auth.authorize(mqttPrincipal(client), 'publish', { type: 'mqtt', name: topic }),
    authorizeSubscribe: (client, filter) => auth.authorize(mqttPrincipal(client), 'subscribe', { type: 'mqtt', name: filter }),
  };
}
