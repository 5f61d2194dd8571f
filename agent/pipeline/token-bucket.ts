/**
 * A token bucket: `ratePerS` tokens a second, holding at most `burst`. Time comes from the caller's clock, so
 * it is exact under a fake clock in tests.
 */
export class TokenBucket {
  private tokens: number;
  private last: number | null = null;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (this.last !== null && now > this.last) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerS) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
