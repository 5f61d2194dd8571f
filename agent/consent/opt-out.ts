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
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // not localeCompare: it pages in ICU collation data
    .map(([type, r]) => ({ type, ...r, rate: r.devices === 0 ? 0 : r.optedOut / r.devices }));
}

/**
 * Campaign-layer opt-out rate by device type: per device type, the share of devices whose household withdrew its
 * consent to `campaign`, among devices whose household decided at all (no decision is default deny, not an opt-out).
 */
export function campaignOptOutByDeviceType(
  devices: ReadonlyArray<{ id: string; type: string | null; profile: string | null }>,
  rules: ConsentRules,
  campaign: string,
): OptOutRow[] {
  const decided = new Map<string, boolean>();
  for (const e of rules.entries()) if (e.scope === 'campaign' && e.target === campaign) decided.set(e.subject, e.granted);
  const byType = new Map<string, { devices: number; optedOut: number }>();
  for (const d of devices) {
    if (d.profile === null || !decided.has(d.profile)) continue;
    const t = d.type ?? 'unknown';
    const row = byType.get(t) ?? { devices: 0, optedOut: 0 };
    row.devices++;
    if (decided.get(d.profile) === false) row.optedOut++;
    byType.set(t, row);
  }
  return [...byType.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // not localeCompare: it pages in ICU collation data
    .map(([type, r]) => ({ type, ...r, rate: r.devices === 0 ? 0 : r.optedOut / r.devices }));
}
