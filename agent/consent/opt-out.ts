import type { ConsentRules } from './consent-rules';

export interface OptOutRow {
  type: string;
  devices: number;
  optedOut: number;
  rate: number;
}

/**
 * Opt-out rate by device type (the source's early warning for consent problems): the share of devices of a
 * type with at least one device-layer withdrawal in force.
 */
export function optOutByDeviceType(devices: ReadonlyArray<{ id: string; type: string | null }>, rules: ConsentRules): OptOutRow[] {
  const withdrawn = new Set(
    rules
      .entries()
      .filter((e) => e.scope === 'device' && !e.granted)
      .map((e) => e.subject),
  );
  const byType = new Map<string, { devices: number; optedOut: number }>();
  for (const d of devices) {
    const t = d.type ?? 'unknown';
    const row = byType.get(t) ?? { devices: 0, optedOut: 0 };
    row.devices++;
    if (withdrawn.has(d.id)) row.optedOut++;
    byType.set(t, row);
  }
  return [...byType.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, r]) => ({ type, ...r, rate: r.devices === 0 ? 0 : r.optedOut / r.devices }));
}
