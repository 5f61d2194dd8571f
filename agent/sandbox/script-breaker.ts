/**
 * Per-script failure breaker (DESIGN §8): `threshold` failures in a row disable the script for `cooldownMs`,
 * then it is tried again with a clean count. Pure; time is passed in.
 */
export class ScriptBreaker {
  private consecutive = 0;
  private until: number | null = null;

  constructor(
    readonly threshold = 3,
    readonly cooldownMs = 60_000,
  ) {}

  /** Whether a call may run at `now`; re-enables (with a fresh count) once the cooldown has passed. */
  allows(now: number): boolean {
    if (this.until === null) return true;
    if (now < this.until) return false;
    this.until = null;
    this.consecutive = 0;
    return true;
  }

  success(): void {
    this.consecutive = 0;
  }

  /** Records a failure; true when this one disabled the script. */
  failure(now: number): boolean {
    this.consecutive++;
    if (this.consecutive >= this.threshold && this.until === null) {
      this.until = now + this.cooldownMs;
      return true;
    }
    return false;
  }

  get failuresInARow(): number {
    return this.consecutive;
  }

  /** When the script comes back, or null when it is enabled (as of the last `allows`). */
  disabledUntil(now: number): number | null {
    return this.until !== null && now < this.until ? this.until : null;
  }
}
