/**
 * The per-connection PUBLISH rate limit (--mqtt-max-publish-rate): a token bucket holding one second's worth of
 * messages. A publisher over the rate is not disconnected (3.1.1 has no way to tell it why): the connection stops
 * reading from its socket until the bucket has a token again, so TCP slows the client down to the rate.
 * Pure: the clock is passed in.
 */
export class PublishRate {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  constructor(
    readonly perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond;
    this.last = now;
    this.perMs = perSecond / 1000;
  }

  /** Takes a token and returns 0, or returns how many ms to wait for one (taking none). */
  take(now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(this.perSecond, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
  }
}
