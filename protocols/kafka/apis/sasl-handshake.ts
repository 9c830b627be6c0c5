/**
 * SaslHandshake (key 17, KIP-43): the client names its mechanism; we answer with the mechanisms served. v1 means
 * SaslAuthenticate requests carry the exchange (KIP-152); v0 means raw SASL tokens follow, each framed by a 4-byte
 * length and no request header (the connection reads them so). With auth off, or once authenticated, the answer is
 * ILLEGAL_SASL_STATE, as from a Kafka listener without SASL.
 *
 * The exchange knows the client's address: from an address with too many recent failed logins its first token
 * fails at once (SaslAuthenticate: SASL_AUTHENTICATION_FAILED saying so, then the close; v0: the close), before any
 * credential work (runtime/core/auth/login-guard.ts).
 */
import { SASL_MECHANISMS } from '../../../runtime/core/auth/sasl.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/sasl-handshake.js';
import { defineApi } from './types.js';

const mechanisms = [...SASL_MECHANISMS];

export const saslHandshakeApi = defineApi({
  apiKey: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  flexibleVersion: null,
  request: Request,
  response: Response,
  handler: (req, ctx) => {
    if (!ctx.auth.enabled || !ctx.session.canHandshake) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    const exchange = ctx.auth.saslExchange(req.mechanism, ctx.connection.remoteAddress, 'kafka');
    if (!exchange) {
      ctx.log.warn({ mechanism: req.mechanism }, 'kafka client asked for an unsupported SASL mechanism');
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    ctx.session.begin(exchange, ctx.apiVersion === 0);
    return { errorCode: ErrorCode.NONE, mechanisms };
  },
});
