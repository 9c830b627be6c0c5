/**
 * SaslAuthenticate (key 36, KIP-152): one SASL token each way per request. A failed exchange answers
 * SASL_AUTHENTICATION_FAILED with a reason that does not tell whether the user exists, then the connection closes,
 * as Kafka does; so does an address refused by the login guard (too many failed logins lately), before any
 * credential work. There is no re-authentication (KIP-368): session lifetime 0.
 */
import { isRefusal } from '../../../runtime/core/auth/guarded-sasl.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/sasl-authenticate.js';
import { defineApi } from './types.js';

const NOTHING = Buffer.alloc(0);

export const saslAuthenticateApi = defineApi({
  apiKey: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  flexibleVersion: 2,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const exchange = ctx.session.exchange;
    if (!ctx.auth.enabled || !exchange) {
      const errorMessage = 'SaslAuthenticate without a preceding SaslHandshake v1, or after authentication';
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage, authBytes: NOTHING, sessionLifetimeMs: 0 };
    }
    const result = await exchange.step(Buffer.from(req.authBytes));
    if (result.kind === 'continue') return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: result.challenge, sessionLifetimeMs: 0 };
    if (result.kind === 'success') {
      ctx.session.succeed(result.principal);
      ctx.log.info({ user: result.principal.user, mechanism: exchange.mechanism }, 'kafka client authenticated');
      return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: result.response, sessionLifetimeMs: 0 };
    }
    ctx.session.closeAfterResponse = `SASL ${exchange.mechanism} authentication failed: ${result.reason}`;
    ctx.session.closeQuietly = isRefusal(result);
    return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: result.reason, authBytes: NOTHING, sessionLifetimeMs: 0 };
  },
});
