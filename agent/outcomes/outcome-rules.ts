import type { CampaignConfig, NotifyTemplateConfig } from '../config/types';

/** What the outcome metrics need to know about one campaign (its config's defaults were filled by the schema). */
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
  const { conversion: conv, dwell } = c;
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
