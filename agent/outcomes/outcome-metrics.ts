import { attribute } from './attribution';
import { dwellMetric, type DwellMetric } from './dwell';
import type { OutcomeRule } from './outcome-rules';
import { reorderCycle, type ReorderCycle } from './reorder-cycle';
import {
  DELIVERY_STATES,
  type DeliveryState,
  type OutcomeHistory,
  type PurchaseRecord,
  type TriggerRecord,
} from './types';

/** The outcome metrics of one campaign (docs/outcomes.md gives each definition). */
export interface CampaignOutcomes {
  campaign: string;
  /** households (profiles) with any trigger, purchase or presence in the period */
  households: number;
  triggers: number;
  /** triggers converted by a purchase within the attribution window */
  converted: number;
  /** converted / triggers; null without triggers */
  conversionRate: number | null;
  attributionWindowDays: number;
  purchases: number;
  /** purchases that converted no trigger (before any trigger, outside every window, or a trigger already converted) */
  unattributedPurchases: number;
  reorderCycle: ReorderCycle;
  dwell: DwellMetric & { withinMinutes: number; capMinutes: number };
  delivery: Record<DeliveryState, number>;
}

const keyOf = (profile: string, campaign: string): string => `${profile}\u0000${campaign}`;

/**
 * Pure computation of every campaign's outcomes from the event histories. `since` restricts the period: only
 * triggers, purchases and presence at or after it count (a trigger before `since` cannot be converted by a purchase
 * inside the period). Campaigns without any data still get a row, with zeros and nulls.
 */
export class OutcomeMetrics {
  constructor(private readonly rules: readonly OutcomeRule[]) {}

  compute(history: OutcomeHistory, now: number, since: number | null = null): CampaignOutcomes[] {
    const inPeriod = (at: number): boolean => since === null || at >= since;
    const triggers = history.triggers.filter((t) => inPeriod(t.at));
    const purchases = history.purchases.filter((p) => inPeriod(p.at));
    const presence = history.presence.filter((p) => inPeriod(p.at));
    return this.rules.map((rule) => {
      const c = rule.campaign;
      const ts = triggers.filter((t) => t.campaign === c);
      const ps = purchases.filter((p) => p.campaign === c);
      const pr = presence.filter((p) => p.campaign === c);
      const converted = attribute(
        ts.map((t) => ({ id: t.id, key: keyOf(t.profile, t.campaign), at: t.at })),
        ps.map((p) => ({ key: keyOf(p.profile, p.campaign), at: p.at, trigger: p.trigger })),
        rule.attributionWindowMs,
      );
      const profiles = new Set([
        ...ts.map((t) => t.profile),
        ...ps.map((p) => p.profile),
        ...pr.map((p) => p.profile),
      ]);
      const byProfile = <T extends { profile: string }>(list: readonly T[], profile: string): T[] =>
        list.filter((x) => x.profile === profile);
      const delivery = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<
        DeliveryState,
        number
      >;
      for (const t of ts) delivery[t.delivery]++;
      return {
        campaign: c,
        households: profiles.size,
        triggers: ts.length,
        converted: converted.size,
        conversionRate: ts.length === 0 ? null : converted.size / ts.length,
        attributionWindowDays: rule.attributionWindowMs / 86_400_000,
        purchases: ps.length,
        unattributedPurchases: ps.length - converted.size,
        reorderCycle: reorderCycle(
          [...profiles].map((p) => ({
            purchases: byProfile<PurchaseRecord>(ps, p).map((x) => x.at),
            firstTrigger: firstAt(byProfile<TriggerRecord>(ts, p)),
          })),
        ),
        dwell: {
          ...dwellMetric(
            [...profiles].map((p) => ({
              presence: byProfile(pr, p),
              triggers: byProfile<TriggerRecord>(ts, p).map((t) => t.at),
            })),
            rule.dwellWithinMs,
            rule.dwellCapMs,
            now,
          ),
          withinMinutes: rule.dwellWithinMs / 60_000,
          capMinutes: rule.dwellCapMs / 60_000,
        },
        delivery,
      };
    });
  }
}

function firstAt(ts: readonly TriggerRecord[]): number | null {
  return ts.length === 0 ? null : Math.min(...ts.map((t) => t.at));
}
