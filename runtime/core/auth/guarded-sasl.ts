/**
 * A SASL exchange behind the login guard: its first token takes a slot of the client's address (or is refused at
 * once, before any credential lookup), and the exchange's end settles it — a wrong password or SCRAM proof counts
 * as a failure, a malformed message does not (it cost no credential work).
 */
import type { LoginAttempt, LoginGuard } from './login-guard.js';
import { TOO_MANY_FAILED_LOGINS } from './login-guard.js';
import { isRejection, type SaslExchange, type SaslMechanism, type SaslResult } from './sasl.js';

/** What the guarded exchange reports, for the metrics. */
export interface GuardEvents {
  refused(): void;
  failed(): void;
}

/** The reason a refused exchange fails with: what Kafka clients show (kafkajs, librdkafka print it). */
export const REFUSED_REASON = `Authentication failed: ${TOO_MANY_FAILED_LOGINS}`;

const REFUSED: SaslResult = Object.freeze({ kind: 'failure', reason: REFUSED_REASON });

/** Whether a result is the guard's refusal (nothing was checked; the guard logged it once for the address). */
export const isRefusal = (result: SaslResult): boolean => result.kind === 'failure' && result.reason === REFUSED_REASON;

export class GuardedExchange implements SaslExchange {
  /** undefined until the first token; null once refused. */
  private attempt: LoginAttempt | null | undefined;

  constructor(
    private readonly inner: SaslExchange,
    private readonly guard: LoginGuard,
    private readonly address: string | undefined,
    private readonly events: GuardEvents,
  ) {}

  get mechanism(): SaslMechanism {
    return this.inner.mechanism;
  }

  async step(token: Buffer): Promise<SaslResult> {
    if (this.attempt === null) return REFUSED;
    if (this.attempt === undefined) {
      this.attempt = await this.guard.enter(this.address);
      if (this.attempt === null) {
        this.events.refused();
        return REFUSED;
      }
    }
    const attempt = this.attempt;
    let result: SaslResult;
    try {
      result = await this.inner.step(token);
    } catch (err) {
      attempt.finish('none');
      throw err;
    }
    if (result.kind === 'continue') return result;
    const rejected = isRejection(result);
    attempt.finish(result.kind === 'success' ? 'success' : rejected ? 'failure' : 'none');
    if (rejected) this.events.failed();
    return result;
  }
}
