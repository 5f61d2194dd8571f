import type {
  CampaignConfig,
  ConversionConfig,
  DwellConfig,
  NotifyTemplateConfig,
  OutcomesConfig,
} from '../config/types';

const MINUTE = 60_000;
const DAY = 86_400_000;

export const DEFAULT_CONVERSION: ConversionConfig = { events: ['reorder'], attributionWindowMs: 7 * DAY };
export const DEFAULT_DWELL: DwellConfig = { withinMs: 30 * MINUTE, capMs: 4 * 60 * MINUTE };
export const DEFAULT_OUTCOMES: OutcomesConfig = {
  signalIntervalS: 3600,
  sampleIntervalS: 300,
  maxSamplesPerKey: 2000,
  retentionDays: 400,
  deliveryAckTimeoutMs: 1500,
  deliveryAttempts: 3,
};

/** What the outcome metrics need to know about one campaign, defaults filled in. */
export interface OutcomeRule {
  campaign: string;
  conversionEvents: readonly string[];
  attributionWindowMs: number;
  dwellWithinMs: number;
  dwellCapMs: number;
  /** null: every presence device of the profile */
  dwellDevices: readonly string[] | null;
  notify: NotifyTemplateConfig;
}

export function outcomeRule(c: CampaignConfig): OutcomeRule {
  const conv = c.conversion ?? DEFAULT_CONVERSION;
  const dwell = c.dwell ?? DEFAULT_DWELL;
  return {
    campaign: c.id,
    conversionEvents: conv.events,
    attributionWindowMs: conv.attributionWindowMs,
    dwellWithinMs: dwell.withinMs,
    dwellCapMs: dwell.capMs,
    dwellDevices: dwell.devices ?? null,
    notify: c.notify ?? { text: '{campaign}', led: 'green' },
  };
}
