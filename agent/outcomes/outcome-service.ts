import type { AgentConfig, CampaignConfig } from '../config/types';
import type { ConsentRules } from '../consent/consent-rules';
import type { CommandOptions, CommandResult } from '../devices/device-commander';
import type { Evaluation, PurgeFilter } from '../engagement/types';
import type { EventBus } from '../event-bus';
import type { DeviceSession } from '../pipeline/device-session';
import type { StageResult } from '../pipeline/ingest-pipeline';
import type { TriggerFired } from '../pipeline/campaign-engagement';
import type { GroupCommitter } from '../store/group-commit';
import type { OutboxStore } from '../store/outbox-store';
import { attribute } from './attribution';
import { renderNotify } from './notify-template';
import { outcomeRule, type OutcomeRule } from './outcome-rules';
import type { OutcomeStore } from './outcome-store';
import { buildOutcomesDocument, withOptOut, type OutcomesDocument } from './outcomes-document';
import { outcomesSignal } from './outcomes-signal';

export class OutcomeError extends Error {}

export interface OutcomeDeps {
  config: AgentConfig;
  store: OutcomeStore;
  committer: GroupCommitter;
  outbox: OutboxStore;
  consent: ConsentRules;
  bus: EventBus;
  commander: {
    send(
      device: string,
      command: string,
      args: Record<string, unknown>,
      o: CommandOptions,
    ): Promise<CommandResult>;
  };
  /** registered devices with their type and household, for opt-out rates */
  devices: () => Array<{ id: string; type: string | null; profile: string | null }>;
  clock: () => number;
}

/**
 * The I/O edge of campaign outcomes: records purchases and presence from accepted device events (campaign consent
 * checked as they happen), records triggers and delivers channel `device` as an acked notify command, samples the
 * index, erases with consent withdrawals, and queues a periodic aggregate `outcomes` signal per campaign.
 * The metrics themselves are computed by the pure OutcomeMetrics.
 */
export class OutcomeService {
  private readonly lastSample = new Map<string, number>();
  private off: Array<() => void> = [];
  private stopped = false;
  /** deliveries in flight, so tests and shutdown can wait for them */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: OutcomeDeps) {
  }

  private rulesCache: { from: CampaignConfig[]; rules: OutcomeRule[] } = { from: [], rules: [] };
  /** bumped by every write to the outcome tables: the status document is recomputed only when it changed */
  private version = 0;
  private cached: { version: number; minute: number; doc: OutcomesDocument } | null = null;

  /** The store, for a write: marks the cached document stale (writes are synchronous, so this is exact). */
  private writer(): OutcomeStore {
    this.version++;
    return this.d.store;
  }

  /** Campaign rules, rebuilt only when the campaign list changed (campaigns can be upserted at run time). */
  private rules(): OutcomeRule[] {
    const cs = this.d.config.campaigns;
    const c = this.rulesCache;
    if (c.from.length !== cs.length || cs.some((x, i) => c.from[i] !== x))
      this.rulesCache = { from: [...cs], rules: cs.map(outcomeRule) };
    return this.rulesCache.rules;
  }

  start(): void {
    // An ack can no longer arrive for a command sent before the restart.
    this.writer().failPending('the agent stopped before the device acked');
    this.off.push(this.d.bus.on('evaluation', (e) => this.sampleEvaluation(e)));
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.off) off();
    this.off = [];
  }

  /** Waits for deliveries in flight (their ack or their last retry). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Engagement-stage hook: purchases and presence from one accepted event, written in the event's transaction. */
  onEvent(device: DeviceSession, event: string, category: string, at: number): StageResult {
    const profile = device.profile;
    const presence = event === 'presence_start' ? 'start' : event === 'presence_end' ? 'end' : null;
    if (profile === null) return { persist: null, afterCommit: null };
    const writes: Array<() => void> = [];
    for (const r of this.rules()) {
      if (!this.d.consent.campaignAllows(profile, r.campaign)) continue; // not counted without campaign consent
      if (r.conversionEvents.includes(event)) {
        writes.push(() =>
          this.writer().insertPurchase({
            profile,
            campaign: r.campaign,
            device: device.id,
            category,
            at,
            source: 'device',
            trigger: null,
          }),
        );
      }
      if (presence && (r.dwellDevices === null || r.dwellDevices.includes(device.id))) {
        writes.push(() =>
          this.writer().insertPresence({
            profile,
            campaign: r.campaign,
            device: device.id,
            category,
            kind: presence,
            at,
          }),
        );
      }
    }
    return { persist: writes.length === 0 ? null : () => writes.forEach((w) => w()), afterCommit: null };
  }

  /** A trigger fired: record it and, when channel `device` is allowed, deliver the campaign's notify to that device. */
  onTrigger(t: TriggerFired): void {
    const c = this.d.config.campaigns.find((x) => x.id === t.campaign);
    const viaDevice = t.channels.includes('device') && c !== undefined;
    this.d.committer.submit(
      () =>
        this.writer().insertTrigger({
          id: t.signalId,
          profile: t.profile,
          campaign: t.campaign,
          device: t.device,
          at: t.at,
          channels: t.channels,
          delivery: viaDevice ? 'pending' : 'none',
          deliveryError: null,
          deliveredAt: null,
        }),
      () => undefined,
    );
    if (!viaDevice) return;
    const args = renderNotify(outcomeRule(c).notify, t.campaign, t.index);
    const p = this.d.commander
      .send(t.device, 'notify', args, {
        timeoutMs: this.d.config.outcomes.deliveryAckTimeoutMs,
        attempts: this.d.config.outcomes.deliveryAttempts,
      })
      .then(
        (r) => this.delivered(t.signalId, r.acked, r.error),
        (err: unknown) => this.delivered(t.signalId, false, err instanceof Error ? err.message : String(err)),
      );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private delivered(id: string, acked: boolean, error: string | null): void {
    if (this.stopped) return; // left pending; failed with a reason at the next start
    const at = this.d.clock();
    this.d.committer.submit(
      () =>
        this.writer().setDelivery(
          id,
          acked ? 'delivered' : 'failed',
          acked ? null : error,
          acked ? at : null,
        ),
      () => undefined,
    );
  }

  /**
   * A purchase reported from upstream for a trigger id (downlink). Unknown triggers and bad times throw and change
   * nothing; a repeat of the same (trigger, at) is recognised and not counted twice.
   */
  reportConversion(
    trigger: string,
    at: number,
    profile?: string,
  ): { trigger: string; campaign: string; attributed: boolean; duplicate: boolean; reason?: string } {
    this.d.committer.flush();
    const t = this.d.store.trigger(trigger);
    if (!t)
      throw new OutcomeError(
        `unknown trigger "${trigger}" (give the id of a trigger signal from this gateway)`,
      );
    if (profile !== undefined && profile !== t.profile)
      throw new OutcomeError(`trigger "${trigger}" is not one of profile "${profile}"`);
    if (!this.d.consent.campaignAllows(t.profile, t.campaign)) {
      throw new OutcomeError(
        `household of trigger "${trigger}" does not consent to campaign "${t.campaign}": not recorded`,
      );
    }
    const rule = this.rules().find((r) => r.campaign === t.campaign);
    const window = rule?.attributionWindowMs ?? 0;
    const added = this.writer().insertPurchase({
      profile: t.profile,
      campaign: t.campaign,
      device: null,
      category: null,
      at,
      source: 'upstream',
      trigger,
    });
    const res = { trigger, campaign: t.campaign, attributed: false, duplicate: !added };
    if (!added) return res;
    if (at <= t.at) return { ...res, reason: 'before the trigger' };
    if (at - t.at > window) return { ...res, reason: 'outside the attribution window' };
    // Several upstream purchases naming one trigger: the earliest purchase time converts it.
    const h = this.d.store.history();
    const key = `${t.profile}\u0000${t.campaign}`;
    const purchases = h.purchases
      .filter((p) => p.profile === t.profile && p.campaign === t.campaign)
      .map((p) => ({ key, at: p.at, trigger: p.trigger }));
    const mine = purchases.findIndex((p) => p.trigger === trigger && p.at === at);
    const won = attribute([{ id: t.id, key, at: t.at }], purchases, window).get(t.id) === mine;
    return won
      ? { ...res, attributed: true }
      : { ...res, reason: 'an earlier upstream purchase converts this trigger' };
  }

  private sampleEvaluation(e: Evaluation): void {
    const k = `${e.profile}\u0000${e.campaign}`;
    const last = this.lastSample.get(k);
    if (e.trigger === null && last !== undefined && e.at - last < this.d.config.outcomes.sampleIntervalS * 1000) return;
    this.lastSample.set(k, e.at);
    const s = {
      profile: e.profile,
      campaign: e.campaign,
      at: e.at,
      index: e.index,
      trigger: e.trigger !== null,
    };
    this.d.committer.submit(
      () => this.writer().sample(s, this.d.config.outcomes.maxSamplesPerKey),
      () => undefined,
    );
  }

  /**
   * Periodic work: index samples of every key (decay between events), retention. `indexRows` is the current index
   * per (profile, campaign), sampled so the chart shows decay.
   */
  tick(now: number, indexRows: ReadonlyArray<{ profile: string; campaign: string; index: number }>): void {
    for (const r of indexRows) {
      if (!this.d.consent.campaignAllows(r.profile, r.campaign)) continue;
      const k = `${r.profile}\u0000${r.campaign}`;
      const last = this.lastSample.get(k);
      if (last !== undefined && now - last < this.d.config.outcomes.sampleIntervalS * 1000) continue;
      this.lastSample.set(k, now);
      const s = { profile: r.profile, campaign: r.campaign, at: now, index: r.index, trigger: false };
      this.d.committer.submit(
        () => this.writer().sample(s, this.d.config.outcomes.maxSamplesPerKey),
        () => undefined,
      );
    }
    const before = now - this.d.config.outcomes.retentionDays * 86_400_000;
    this.d.committer.submit(
      () => this.writer().sweep(before),
      () => undefined,
    );
  }

  /** Erasure with a consent withdrawal (hooked into the consent service's purge); durable before it returns. */
  purge(f: PurgeFilter): number {
    this.d.committer.flush();
    let n = this.writer().purge(f);
    // The index history was computed from that device's events too: the household's samples go with them.
    const owner =
      f.device === undefined ? undefined : this.d.config.devices.find((d) => d.id === f.device)?.profile;
    if (owner !== undefined) n += this.writer().purgeSamples(owner);
    // queued aggregates still include what was just erased: drop them, the next period sends fresh ones
    for (const c of this.d.config.campaigns)
      if (f.campaign === undefined || f.campaign === c.id) this.d.outbox.purgeKind('outcomes', c.id);
    if (f.profile !== undefined)
      for (const k of [...this.lastSample.keys()])
        if (k.startsWith(`${f.profile}\u0000`)) this.lastSample.delete(k);
    return n;
  }

  /**
   * The outcomes document. Unfiltered (status, /metrics) the metrics are cached until the outcome tables change or
   * the minute turns (open presence sessions close at their cap with time alone): status may be asked every second.
   * Opt-out rates are always fresh.
   */
  document(now: number, filter: { since?: number; campaign?: string } = {}): OutcomesDocument {
    const plain = filter.since === undefined && filter.campaign === undefined;
    const minute = Math.floor(now / 60_000);
    if (plain && this.cached && this.cached.version === this.version && this.cached.minute === minute) {
      return withOptOut(this.cached.doc, this.d.consent, this.d.devices(), now);
    }
    const doc = this.compute(now, filter);
    if (plain) this.cached = { version: this.version, minute, doc };
    return doc;
  }

  private compute(now: number, filter: { since?: number; campaign?: string }): OutcomesDocument {
    return buildOutcomesDocument(this.d.store, this.rules(), this.d.consent, this.d.devices(), now, filter);
  }

  /** Queues one aggregate `outcomes` signal per campaign (replacing an unsent older one). */
  enqueueSignals(now: number): number {
    const doc = this.document(now);
    const rows = doc.campaigns.map((c) => outcomesSignal(c, now));
    this.d.committer.submit(
      () => {
        for (const p of rows) {
          this.d.outbox.purgeKind('outcomes', p.campaign);
          this.d.outbox.enqueue({
            signalId: p.id,
            kind: 'outcomes',
            profile: null,
            campaign: p.campaign,
            device: null,
            category: null,
            payload: JSON.stringify(p),
            createdAt: now,
          });
        }
      },
      (err) => !err && rows.length > 0 && this.d.bus.emit('outbox', { rows: rows.length }),
    );
    return rows.length;
  }
}
