/** Exponential backoff with full jitter (reconnects of many gateways must not synchronise). */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs = 250,
    private readonly maxMs = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(this.minMs / 2 + this.random() * (cap - this.minMs / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
