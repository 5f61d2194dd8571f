/**
 * Limits pairing-code guessing: an 8-digit code is only as strong as the number of tries allowed. Each remote
 * address gets `perAddress` failures per window; all addresses together get `total` per window (so a LAN full
 * of addresses cannot share the work). A success does not reset the global count.
 */
export class LoginThrottle {
  private readonly failures: Array<{ at: number; address: string }> = [];

  constructor(
    private readonly clock: () => number,
    private readonly limits = { perAddress: 5, total: 30, windowMs: 60_000 },
  ) {}

  /** Milliseconds until `address` may try again; 0 if it may try now. */
  retryAfterMs(address: string): number {
    const now = this.clock();
    this.expire(now);
    const mine = this.failures.filter((f) => f.address === address);
    if (mine.length >= this.limits.perAddress) return mine[0]!.at + this.limits.windowMs - now;
    if (this.failures.length >= this.limits.total) return this.failures[0]!.at + this.limits.windowMs - now;
    return 0;
  }

  failed(address: string): void {
    this.failures.push({ at: this.clock(), address });
  }

  private expire(now: number): void {
    while (this.failures.length > 0 && this.failures[0]!.at + this.limits.windowMs <= now) this.failures.shift();
  }
}
