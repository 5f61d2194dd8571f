const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `7d`, `12h`, `30m`, `45s`, `250ms`, or a number of seconds → milliseconds; null when invalid. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : null;
  if (typeof v !== 'string') return null;
  const m = DURATION.exec(v.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}
