/** Authentication and authorization, shared by every protocol front-end and the admin API. */
export { authOf, AuthService, type AuthOutcome, type AuthSettings } from './service.js';
export { AclEngine, type AclRule } from './acl.js';
export { clientAddress, LoginGuard, TooManyFailedLogins, type LoginAttempt, type LoginGuardOptions } from './login-guard.js';
export { filterCovers, filtersOverlap, makeRule, topicMatches } from './acl-rules.js';
export { mqttAuthHooks, mqttPrincipal } from './mqtt-hooks.js';
export { SASL_MECHANISMS, saslExchange, type SaslExchange, type SaslResult } from './sasl.js';
export { UserStore } from './users.js';
export * from './types.js';
