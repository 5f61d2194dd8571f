import { CampaignEngagement } from '../pipeline/campaign-engagement';
import { CampaignStore } from '../store/campaign-store';
import { EngagementStore } from '../store/engagement-store';
import type { ConsentLedger } from '../consent/consent-ledger';
import type { OutcomeService } from '../outcomes';
import type { ScriptHost } from '../sandbox';
import type { Part } from '../part';
import { Intervals, type BaseContext } from './context';
import type { StoreContext } from './store-part';

type In = BaseContext & StoreContext & { scripts: ScriptHost; ledger: ConsentLedger; outcomes: OutcomeService };

export interface EngagementContext {
  engagement: CampaignEngagement;
  /** campaign definitions received from upstream, kept across restarts */
  campaignStore: CampaignStore;
}

/** The engagement index per (profile, campaign): decay and re-arm every second, outcome samples of the index. */
export class EngagementPart implements Part<In, EngagementContext> {
  readonly name = 'engagement';
  private engagement: CampaignEngagement | null = null;
  private readonly intervals = new Intervals();
  private offTriggers: (() => void) | null = null;

  async start({ config, clock, bus, status, db, committer, outbox, scripts, ledger, outcomes }: In): Promise<EngagementContext> {
    const engagement = new CampaignEngagement(config, new EngagementStore(db), outbox, ledger.rules, bus, { committer, scripts, triggers: outcomes });
    this.engagement = engagement;
    const campaignStore = new CampaignStore(db);
    for (const c of campaignStore.load()) engagement.upsertCampaign(c);
    engagement.load(clock());
    let triggers = 0;
    this.offTriggers = bus.on('trigger', () => triggers++);
    this.intervals.every(1000, () => engagement.tick(clock()));
    this.intervals.every(Math.min(60, config.outcomes.sampleIntervalS) * 1000, () => {
      const now = clock();
      outcomes.tick(now, engagement.rows(now));
    });
    status.set('engagement', (now) => engagement.rows(now));
    status.set('triggers', () => ({ total: triggers }));
    status.set('scriptOutcomes', () => ({
      conditionRejected: engagement.conditionRejected,
      conditionFailed: engagement.conditionFailed,
      scoreFailed: engagement.scoreFailed,
    }));
    return { engagement, campaignStore };
  }

  async stop(): Promise<void> {
    this.intervals.clear();
    this.offTriggers?.();
    this.offTriggers = null;
    this.engagement?.flush();
    this.engagement = null;
  }
}
