import { median } from './median';

const DAY_MS = 86_400_000;

export interface ReorderCycle {
  /** intervals between consecutive purchases that both happened before the key's first trigger */
  intervalsBefore: number;
  intervalsAfter: number;
  medianBeforeDays: number | null;
  medianAfterDays: number | null;
  /** medianAfter / medianBefore: below 1 means purchases come faster after the first trigger */
  ratio: number | null;
}

/**
 * Reorder cycle compression over households (keys): per key, the intervals between consecutive purchases are
 * split at the key's first trigger, "before" when both purchases are before it, "after" when both are after it;
 * an interval spanning the trigger belongs to neither. Keys never triggered contribute nothing (no before/after).
 * The medians are over all keys' intervals pooled.
 */
export function reorderCycle(
  keys: ReadonlyArray<{ purchases: readonly number[]; firstTrigger: number | null }>,
): ReorderCycle {
  const before: number[] = [];
  const after: number[] = [];
  for (const k of keys) {
    if (k.firstTrigger === null) continue;
    const t = k.firstTrigger;
    const ps = [...k.purchases].sort((a, b) => a - b);
    for (let i = 1; i < ps.length; i++) {
      const d = (ps[i] - ps[i - 1]) / DAY_MS;
      if (ps[i] < t) before.push(d);
      else if (ps[i - 1] > t) after.push(d);
    }
  }
  const mb = median(before);
  const ma = median(after);
  return {
    intervalsBefore: before.length,
    intervalsAfter: after.length,
    medianBeforeDays: mb,
    medianAfterDays: ma,
    ratio: mb === null || ma === null || mb === 0 ? null : ma / mb,
  };
}
