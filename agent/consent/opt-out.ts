import { byCodeUnits } from '../code-unit-order';
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
  return rowsByType(devices, (d) => withdrawn.has(d.id));
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
  return rowsByType(devices, (d) => (d.profile === null || !decided.has(d.profile) ? null : decided.get(d.profile) === false));
}

/**
 * Devices tallied by type (no type: "unknown") into opt-out rows, in code-unit order of type. `optedOut` says
 * whether a device opted out, or null to leave it out.
 */
function rowsByType<D extends { type: string | null }>(devices: readonly D[], optedOut: (d: D) => boolean | null): OptOutRow[] {
  const byType = new Map<string, { devices: number; optedOut: number }>();
  for (const d of devices) {
    const out = optedOut(d);
    if (out === null) continue;
    const t = d.type ?? 'unknown';
    const row = byType.get(t) ?? { devices: 0, optedOut: 0 };
    row.devices++;
    if (out) row.optedOut++;
    byType.set(t, row);
  }
  return [...byType.entries()]
    .sort(([a], [b]) => byCodeUnits(a, b))
    .map(([type, r]) => ({ type, ...r, rate: r.devices === 0 ? 0 : r.optedOut / r.devices }));
}
