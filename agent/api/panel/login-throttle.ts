/**
 * Limits pairing-code guessing: an 8-digit code is only as strong as the number of tries allowed. Each remote
 * address gets `perAddress` attempts per window; all addresses together get `total` per window (so a LAN full
 * of addresses cannot share the work).
 *
 * An attempt is taken (counted) in one synchronous step before its body is even read (issue #21: checking first
 * and recording after the body arrived let N connections that sent their bodies together get N guesses). Only
 * the right code gives its attempt back, so a household member signing in on several phones is not throttled.
 */
export class LoginThrottle {
  private readonly attempts: Array<{ at: number; address: string }> = [];

  constructor(
    private readonly clock: () => number,
    private readonly limits = { perAddress: 5, total: 30, windowMs: 60_000 },
  ) {}

  /**
   * Takes one attempt for `address`: `{ granted }` with the attempt counted, or how long until it may try again.
   * `giveBack()` returns a granted attempt (for the right code only).
   */
  take(address: string): { granted: true; giveBack: () => void } | { granted: false; retryAfterMs: number } {
    const now = this.clock();
    this.expire(now);
    const mine = this.attempts.filter((f) => f.address === address);
    if (mine.length >= this.limits.perAddress) return { granted: false, retryAfterMs: mine[0]!.at + this.limits.windowMs - now };
    if (this.attempts.length >= this.limits.total) return { granted: false, retryAfterMs: this.attempts[0]!.at + this.limits.windowMs - now };
    const attempt = { at: now, address };
    this.attempts.push(attempt);
    return {
      granted: true,
      giveBack: () => {
        const i = this.attempts.indexOf(attempt);
        if (i >= 0) this.attempts.splice(i, 1);
      },
    };
  }

  private expire(now: number): void {
    while (this.attempts.length > 0 && this.attempts[0]!.at + this.limits.windowMs <= now) this.attempts.shift();
  }
}
