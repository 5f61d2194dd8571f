/** Thrown for inputs outside the formula's domain; the message names the input and the allowed range. */
export class EngagementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngagementError';
  }
}

export const DAY_MS = 86_400_000;
/** S as published (DESIGN §4); the config's engagement.recencyScale and `index --scale` default to it */
export const PUBLISHED_SCALE = 100;
/** R's floor in days; the config's engagement.recencyFloorDays and `index --floor` default to it */
export const DEFAULT_RECENCY_FLOOR_DAYS = 1;

export interface IndexInputs {
  /** R: days since the last qualifying event (real number) */
  recencyDays: number;
  /** F: qualifying events in the trailing window */
  frequency: number;
  /** V: purchase-intent value, 0–100 */
  value: number;
  /** S: recency scale; 100 as published (default) */
  scale?: number;
  /** R is floored at this many days (default 1) */
  recencyFloorDays?: number;
}

export function validateValue(v: number, what = 'value (V)'): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    throw new EngagementError(`${what} must be a number from 0 to 100, got ${String(v)}`);
  }
}

/**
 * The IoT Engagement Index (DESIGN §4): index = (S / R) × F × (V / 100), with R floored at `recencyFloorDays`.
 * Inputs outside their domain throw instead of being clamped: a silently clamped V would hide an upstream bug.
 */
export function computeIndex(i: IndexInputs): number {
  const scale = i.scale ?? PUBLISHED_SCALE;
  const floor = i.recencyFloorDays ?? DEFAULT_RECENCY_FLOOR_DAYS;
  if (!Number.isFinite(i.recencyDays) || i.recencyDays < 0) {
    throw new EngagementError(`recency (R) must be a number of days >= 0, got ${String(i.recencyDays)}`);
  }
  if (!Number.isInteger(i.frequency) || i.frequency < 0) {
    throw new EngagementError(`frequency (F) must be a whole number >= 0, got ${String(i.frequency)}`);
  }
  validateValue(i.value);
  if (!Number.isFinite(scale) || scale <= 0) throw new EngagementError(`scale (S) must be a number > 0, got ${String(scale)}`);
  if (!Number.isFinite(floor) || floor <= 0) {
    throw new EngagementError(`recency floor must be a number of days > 0, got ${String(floor)}`);
  }
  if (i.frequency === 0) return 0;
  return (scale / Math.max(i.recencyDays, floor)) * i.frequency * (i.value / 100);
}
