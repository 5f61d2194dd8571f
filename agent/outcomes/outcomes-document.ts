import type { ConsentRules } from '../consent/consent-rules';
import { campaignOptOutByDeviceType, optOutByDeviceType, type OptOutRow } from '../consent/opt-out';
import { OutcomeMetrics, type CampaignOutcomes } from './outcome-metrics';
import type { OutcomeRule } from './outcome-rules';
import type { OutcomeStore } from './outcome-store';
import type { DeliveryState } from './types';

/** The `outcomes` key of `status --json` and what `edge-agent report` prints (docs/outcomes.md). */
export interface OutcomesDocument {
  /** ISO time the period starts (null: all retained history) */
  since: string | null;
  generatedAt: string;
  campaigns: Array<CampaignOutcomes & { optOutByDeviceType: OptOutRow[] }>;
  /** device-layer opt-out rate by device type (same as status.consent.optOutByDeviceType) */
  optOutByDeviceType: OptOutRow[];
  /** the most recent triggers with their delivery state (local only; upstream gets counts) */
  recentTriggers: Array<{
    id: string;
    profile: string;
    campaign: string;
    device: string | null;
    at: string;
    delivery: DeliveryState;
    error: string | null;
  }>;
}

/** The outcomes document from stored history; used by the agent and by `report` against a read-only database. */
export function buildOutcomesDocument(
  store: OutcomeStore,
  allRules: readonly OutcomeRule[],
  consent: ConsentRules,
  devices: ReadonlyArray<{ id: string; type: string | null; profile: string | null }>,
  now: number,
  filter: { since?: number; campaign?: string } = {},
): OutcomesDocument {
  const rules =
    filter.campaign === undefined ? allRules : allRules.filter((r) => r.campaign === filter.campaign);
  const metrics = new OutcomeMetrics(rules).compute(store.history(), now, filter.since ?? null);
  const doc: OutcomesDocument = {
    since: filter.since === undefined ? null : new Date(filter.since).toISOString(),
    generatedAt: new Date(now).toISOString(),
    campaigns: metrics.map((m) => ({ ...m, optOutByDeviceType: [] })),
    optOutByDeviceType: [],
    recentTriggers: store
      .recentTriggers(20)
      .filter((t) => filter.campaign === undefined || t.campaign === filter.campaign)
      .map((t) => ({
        id: t.id,
        profile: t.profile,
        campaign: t.campaign,
        device: t.device,
        at: new Date(t.at).toISOString(),
        delivery: t.delivery,
        error: t.deliveryError,
      })),
  };
  return withOptOut(doc, consent, devices, now);
}

/** Fills the opt-out rates from the consent decisions and devices of now (they change without outcome writes). */
export function withOptOut(
  doc: OutcomesDocument,
  consent: ConsentRules,
  devices: ReadonlyArray<{ id: string; type: string | null; profile: string | null }>,
  now: number,
): OutcomesDocument {
  return {
    ...doc,
    generatedAt: new Date(now).toISOString(),
    campaigns: doc.campaigns.map((c) => ({
      ...c,
      optOutByDeviceType: campaignOptOutByDeviceType(devices, consent, c.campaign),
    })),
    optOutByDeviceType: optOutByDeviceType(devices, consent),
  };
}
