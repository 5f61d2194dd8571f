import type { UpstreamConfig } from '../config';
import type { ConsentService } from '../consent/consent-service';
import type { OutcomeService } from '../outcomes';
import { DownlinkHandler } from '../sync/downlink-handler';
import { GenericProfile } from '../sync/generic-profile';
import { OutboxPublisher } from '../sync/outbox-publisher';
import { ThingsboardProfile } from '../sync/thingsboard-profile';
import type { Part } from '../part';
import { Intervals, type BaseContext } from './context';
import type { EngagementContext } from './engagement-part';
import type { StoreContext } from './store-part';

type In = BaseContext & StoreContext & EngagementContext & { consent: ConsentService; outcomes: OutcomeService };

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** Store-and-forward to the upstream broker (docs/sync.md) and the downlink it answers; only with `upstream:`. */
export class SyncPart implements Part<In, { publisher: OutboxPublisher }> {
  readonly name = 'sync';
  private publisher: OutboxPublisher | null = null;
  private readonly intervals = new Intervals();

  constructor(private readonly upstream: UpstreamConfig) {}

  async start({ config, clock, bus, status, outbox, engagement, campaignStore, consent, outcomes }: In): Promise<{ publisher: OutboxPublisher }> {
    const up = this.upstream;
    const profiles = [...new Set(config.devices.map((d) => d.profile).filter((p): p is string => !!p))];
    const profile =
      up.profile === 'thingsboard'
        ? new ThingsboardProfile(profiles, config.campaigns.filter((c) => c.value.kind === 'upstream').map((c) => c.id))
        : new GenericProfile(up.baseTopic, config.gateway.id);
    const downlink = new DownlinkHandler({ config, consent, engagement, saveCampaign: (c) => campaignStore.save(c), outcomes, clock });
    const publisher = new OutboxPublisher(
      up,
      config.gateway.id,
      profile,
      outbox,
      // consent receipts and outcome aggregates carry no household data beyond what they are for
      (row) => (row.kind === 'consent' || row.kind === 'outcomes' ? (JSON.parse(row.payload) as unknown) : engagement.publishable(row)),
      bus,
      downlink,
      () => {
        const st = status.document(clock());
        return {
          outboxPending: st.outbox.pending,
          outboxOldestAgeS: st.outbox.oldestAgeS,
          droppedRows: st.outbox.dropped,
          devicesConnected: st.devices.filter((d) => d.connected).length,
          framesAccepted: st.ingest.accepted,
        };
      },
    );
    this.publisher = publisher;
    const pub = publisher.status;
    status.set('upstream', () => ({
      connected: pub.connected,
      published: pub.published,
      lastAckAt: iso(pub.lastAckAt),
      url: pub.url,
      profile: pub.profile,
      error: pub.error,
      connects: pub.connects,
      messages: pub.messages,
      payloadBytes: pub.payloadBytes,
      inFlightRows: pub.inFlightRows,
      nextRetryAt: iso(pub.nextRetryAt),
      downlink: { accepted: downlink.accepted, rejected: downlink.rejected, lastError: downlink.lastError },
    }));
    const outboxSection = status.get('outbox');
    if (outboxSection) status.set('outbox', (now) => ({ ...outboxSection(now), droppedNoConsentAtSync: publisher.droppedNoConsent }));
    // aggregates are for upstream only: without one they would just sit in the outbox
    this.intervals.every(config.outcomes.signalIntervalS * 1000, () => outcomes.enqueueSignals(clock()));
    await publisher.start();
    return { publisher };
  }

  async stop(): Promise<void> {
    this.intervals.clear();
    await this.publisher?.stop().catch(() => undefined);
    this.publisher = null;
  }
}
