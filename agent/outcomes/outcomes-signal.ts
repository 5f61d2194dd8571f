import { randomUUID } from 'node:crypto';
import type { OutcomesDocument } from './outcomes-document';

/** Aggregate `outcomes` signal for upstream: one campaign, no profile ids, no per-household rows. */
export interface OutcomesSignal {
  id: string;
  campaign: string;
  ts: number;
  households: number;
  triggers: number;
  converted: number;
  conversionRate: number | null;
  purchases: number;
  reorderCycle: OutcomesDocument['campaigns'][number]['reorderCycle'];
  dwell: {
    triggeredMedianMinutes: number | null;
    baselineMedianMinutes: number | null;
    triggeredSessions: number;
    baselineSessions: number;
    truncated: number;
  };
  delivery: OutcomesDocument['campaigns'][number]['delivery'];
  optOutByDeviceType: OutcomesDocument['campaigns'][number]['optOutByDeviceType'];
}

/** The upstream signal of one campaign's outcomes (a fresh id each time: it replaces an unsent older one). */
export function outcomesSignal(c: OutcomesDocument['campaigns'][number], now: number): OutcomesSignal {
  return {
    id: randomUUID(),
    campaign: c.campaign,
    ts: now,
    households: c.households,
    triggers: c.triggers,
    converted: c.converted,
    conversionRate: c.conversionRate,
    purchases: c.purchases,
    reorderCycle: c.reorderCycle,
    dwell: {
      triggeredMedianMinutes: c.dwell.triggered.medianMinutes,
      baselineMedianMinutes: c.dwell.baseline.medianMinutes,
      triggeredSessions: c.dwell.triggered.sessions,
      baselineSessions: c.dwell.baseline.sessions,
      truncated: c.dwell.truncated,
    },
    delivery: c.delivery,
    optOutByDeviceType: c.optOutByDeviceType,
  };
}
