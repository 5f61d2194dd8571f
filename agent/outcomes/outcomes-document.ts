import type { OptOutRow } from '../consent/opt-out';
import type { CampaignOutcomes } from './outcome-metrics';
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
