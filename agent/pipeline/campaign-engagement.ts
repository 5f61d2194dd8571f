import { randomUUID } from 'node:crypto';
import { byCodeUnits } from '../code-unit-order';
import type { AgentConfig, CampaignConfig } from '../config';
import type { ConsentRules } from '../consent/consent-rules';
import { EngagementEngine, type CampaignRule, type Channel, type Evaluation, type IndexFigures, type PurgeFilter, type TriggerGate } from '../engagement';
import type { EventBus } from '../event-bus';
import type { GroupCommitter } from '../store/group-commit';
import type { EngagementStore } from '../store/engagement-store';
import type { OutboxRow, OutboxStore } from '../store/outbox-store';
import type { DeviceSession } from './device-session';
import type { EngagementRow } from '../api/status';
import type { EngagementStage, EventDetail, StageResult } from './ingest-pipeline';
import type { ScriptHost } from '../sandbox/script-host';
import { campaignScriptId } from '../sandbox/configured-scripts';
import { checkCondition, checkScore } from '../sandbox/script-kind';

export interface SignalPayload extends IndexFigures {
  id: string;
  trigger: boolean;
  channels: Channel[];
  ts: number;
}

/** A trigger that fired, with the device whose event qualified (where channel `device` delivers). */
export interface TriggerFired {
  signalId: string;
  profile: string;
  campaign: string;
  device: string;
  channels: Channel[];
  index: number;
  at: number;
}

const ruleOf = (c: CampaignConfig): CampaignRule => ({
  id: c.id,
  threshold: c.threshold,
  cooldownMs: c.cooldownMs,
  channels: c.channels,
  // A scripted V is computed by the sandbox at each qualifying event and held per profile like an upstream V.
  value: c.value.kind === 'constant' ? c.value : c.value.kind === 'upstream' ? c.value : { kind: 'upstream' },
});

/** The V scoring function's input (`features` in docs/scripts.md). */
export interface ScoreFeatures {
  profile: string;
  campaign: string;
  device: string;
  deviceType: string | null;
  event: string;
  value: number | null;
  channel: number | null;
  /** qualifying events in the window before this one, and days since the last of them */
  f: number;
  r: number | null;
  /** the V in force before this event (null if none yet) */
  v: number | null;
  at: string;
  hour: number;
  weekday: number;
}

/**
 * Engagement stage of the pipeline: maps an accepted device event to the campaigns it qualifies for, enforces
 * campaign consent (no consent, not counted), runs the engine, and turns evaluations into outbox signals.
 * Trigger channels are filtered by channel consent inside the engine's gate.
 */
/** What engagement works with, all built before it (agent/parts: engagement starts after the store and outcomes). */
export interface EngagementCollaborators {
  /** writes go through the same group committer as frames so the delta log is applied in order */
  committer: GroupCommitter;
  /** qualify conditions and V scoring run here */
  scripts: Pick<ScriptHost, 'run'>;
  /** trigger outcomes (agent/outcomes): records each trigger and delivers channel `device` as an acked notify */
  triggers: { onTrigger(t: TriggerFired): void };
}

export class CampaignEngagement implements EngagementStage {
  private engine: EngagementEngine;
  private readonly byEvent = new Map<string, CampaignConfig[]>();
  private readonly gate: TriggerGate;
  /** Index updates are coalesced per key: at most one plain signal per interval; triggers go out at once. */
  private readonly lastSignalAt = new Map<string, number>();
  private readonly dirty = new Map<string, Evaluation>();
  private readonly signalIntervalMs: number;
  /** qualifying events a condition script refused, or could not decide (a failing script counts nothing) */
  conditionRejected = 0;
  conditionFailed = 0;
  scoreFailed = 0;

  constructor(
    private readonly cfg: AgentConfig,
    private readonly store: EngagementStore,
    private readonly outbox: OutboxStore,
    private readonly consent: ConsentRules,
    private readonly bus: EventBus,
    private readonly collab: EngagementCollaborators,
  ) {
    this.engine = new EngagementEngine(cfg.engagement, cfg.campaigns.map(ruleOf));
    this.signalIntervalMs = cfg.engagement.signalIntervalS * 1000;
    this.indexCampaigns();
    this.gate = {
      campaignConsent: (p, c) => this.consent.campaignAllows(p, c),
      allowedChannels: (p, chs) => this.consent.allowedChannels(p, chs),
    };
  }

  private indexCampaigns(): void {
    this.byEvent.clear();
    for (const c of this.cfg.campaigns) {
      const list = this.byEvent.get(c.qualify.event) ?? [];
      list.push(c);
      this.byEvent.set(c.qualify.event, list);
    }
  }

  /**
   * Adds or replaces a campaign at run time (a definition from upstream, already validated). The live config
   * is updated too, so consent targets and status see it; the caller persists the definition.
   */
  upsertCampaign(c: CampaignConfig): 'added' | 'updated' {
    const i = this.cfg.campaigns.findIndex((x) => x.id === c.id);
    if (i >= 0) this.cfg.campaigns[i] = c;
    else this.cfg.campaigns.push(c);
    this.engine.setRule(ruleOf(c));
    this.indexCampaigns();
    return i >= 0 ? 'updated' : 'added';
  }

  campaign(id: string): CampaignConfig | undefined {
    return this.cfg.campaigns.find((c) => c.id === id);
  }

  load(now: number): void {
    this.engine = EngagementEngine.fromSnapshot(this.cfg.engagement, this.cfg.campaigns.map(ruleOf), this.store.load());
    this.tick(now);
  }

  onEvent(device: DeviceSession, event: string, category: string, at: number, detail: EventDetail = {}): StageResult {
    const campaigns = this.byEvent.get(event);
    const profile = device.profile;
    if (!campaigns || profile === null) return { persist: null, afterCommit: null };
    const evaluations: Evaluation[] = [];
    for (const c of campaigns) {
      if (c.qualify.devices && !c.qualify.devices.includes(device.id)) continue;
      if (!this.consent.campaignAllows(profile, c.id)) continue; // engagement enforcement point
      if (c.qualify.condition && !this.conditionHolds(c, device, profile, event, category, at, detail)) continue;
      if (c.value.kind === 'script') this.score(c, device, profile, event, at, detail);
      evaluations.push(this.engine.recordEvent(profile, c.id, at, this.gate, { device: device.id, category }));
    }
    if (evaluations.length === 0) return { persist: null, afterCommit: null };
    const changes = this.engine.drainChanges();
    const signals = this.dueSignals(evaluations, at);
    return {
      persist: () => {
        this.store.apply(changes);
        for (const s of signals) this.outbox.enqueue(s.row);
      },
      afterCommit: () => this.announce(evaluations, signals, device.id),
    };
  }

  /**
   * A campaign's qualify condition, ThingsBoard rule-script style: `msg` is the event, `metadata` says where it
   * came from, `msgType` is "EVENT". Fails closed: an error or a disabled script counts nothing.
   */
  private conditionHolds(c: CampaignConfig, device: DeviceSession, profile: string, event: string, category: string, at: number, d: EventDetail): boolean {
    const msg = { event, ...(d.ch !== undefined ? { ch: d.ch } : {}), ...(d.v !== undefined ? { v: d.v } : {}), ...(d.t !== undefined ? { t: d.t } : {}) };
    const metadata = { deviceId: device.id, deviceType: device.model ?? '', profile, category, campaign: c.id, ts: at };
    const run = this.collab.scripts.run(campaignScriptId(c.id, 'condition'), [msg, metadata, 'EVENT'], checkCondition);
    if (!run.ok) {
      this.conditionFailed++;
      return false;
    }
    if (!run.value) this.conditionRejected++;
    return run.value;
  }

  /** Scripted V: computed from the event and the key's state before it; a failure keeps the last V. */
  private score(c: CampaignConfig, device: DeviceSession, profile: string, event: string, at: number, d: EventDetail): void {
    const m = this.engine.current(profile, c.id, at);
    const when = new Date(at);
    const features: ScoreFeatures = {
      profile,
      campaign: c.id,
      device: device.id,
      deviceType: device.model,
      event,
      value: d.v ?? null,
      channel: d.ch ?? null,
      f: m.f,
      r: m.r,
      v: m.v,
      at: when.toISOString(),
      hour: when.getUTCHours(),
      weekday: when.getUTCDay(),
    };
    const run = this.collab.scripts.run(campaignScriptId(c.id, 'value'), [features], checkScore);
    if (run.ok) this.engine.setValue(profile, c.id, run.value);
    else this.scoreFailed++;
  }

  /** Which evaluations become outbox signals now: every trigger, and index updates at most once per interval. */
  private dueSignals(evaluations: Evaluation[], now: number): Array<{ payload: SignalPayload; row: Omit<OutboxRow, 'id' | 'bytes'> }> {
    const out: Array<{ payload: SignalPayload; row: Omit<OutboxRow, 'id' | 'bytes'> }> = [];
    for (const e of evaluations) {
      const k = `${e.profile}\u0000${e.campaign}`;
      const last = this.lastSignalAt.get(k);
      if (e.trigger !== null || last === undefined || now - last >= this.signalIntervalMs) {
        out.push(this.signal(e));
        this.lastSignalAt.set(k, now);
        this.dirty.delete(k);
      } else {
        this.dirty.set(k, e);
      }
    }
    return out;
  }

  private signal(e: Evaluation): { payload: SignalPayload; row: Omit<OutboxRow, 'id' | 'bytes'> } {
    const payload: SignalPayload = {
      id: randomUUID(),
      profile: e.profile,
      campaign: e.campaign,
      index: Number(e.index.toFixed(6)),
      r: e.r === null ? null : Number(e.r.toFixed(6)),
      f: e.f,
      v: e.v,
      trigger: e.trigger !== null,
      channels: e.trigger?.channels ?? [],
      ts: e.at,
    };
    return {
      payload,
      row: {
        signalId: payload.id,
        kind: 'signal',
        profile: e.profile,
        campaign: e.campaign,
        device: null,
        category: null,
        payload: JSON.stringify(payload),
        createdAt: e.at,
      },
    };
  }

  private announce(
    evaluations: Evaluation[],
    signals: Array<{ payload: SignalPayload }>,
    deviceId: string,
  ): void {
    const byTrigger = new Map(signals.filter((s) => s.payload.trigger).map((s) => [`${s.payload.profile}\u0000${s.payload.campaign}`, s.payload.id]));
    evaluations.forEach((e) => {
      this.bus.emit('evaluation', e);
      if (e.trigger) {
        const signalId = byTrigger.get(`${e.profile}\u0000${e.campaign}`) ?? '';
        this.bus.emit('trigger', { profile: e.profile, campaign: e.campaign, channels: e.trigger.channels, index: e.index, at: e.at, signalId });
        this.collab.triggers.onTrigger({ signalId, profile: e.profile, campaign: e.campaign, device: deviceId, channels: e.trigger.channels, index: e.index, at: e.at });
      }
    });
    if (signals.length > 0) this.bus.emit('outbox', { rows: signals.length });
  }

  /** Periodic re-evaluation: R grows and events leave the window, so indexes fall and triggers re-arm. */
  tick(now: number): void {
    for (const k of this.engine.keysList()) this.engine.evaluate(k.profile, k.campaign, now, this.gate);
    this.persistPending();
    // Coalesced index updates whose interval has elapsed.
    const due: Array<{ payload: SignalPayload; row: Omit<OutboxRow, 'id' | 'bytes'> }> = [];
    for (const [k, e] of this.dirty) {
      if (now - (this.lastSignalAt.get(k) ?? 0) < this.signalIntervalMs) continue;
      if (!this.consent.campaignAllows(e.profile, e.campaign)) {
        this.dirty.delete(k);
        continue;
      }
      due.push(this.signal(e));
      this.lastSignalAt.set(k, now);
      this.dirty.delete(k);
    }
    if (due.length === 0) return;
    const work = (): void => {
      for (const s of due) this.outbox.enqueue(s.row);
    };
    this.collab.committer.submit(work, (err) => !err && this.bus.emit('outbox', { rows: due.length }));
  }

  private persistPending(saveClock = false): void {
    const changes = this.engine.drainChanges(saveClock);
    if (changes.length === 0) return;
    const work = (): void => this.store.apply(changes);
    this.collab.committer.submit(work, () => undefined);
  }

  /** Sets a per-profile V from upstream; out of range throws (EngagementError) and keeps the last value. */
  setValue(profile: string, campaign: string, v: number): void {
    this.engine.setValue(profile, campaign, v);
    this.persistPending();
  }

  /** Unsets a per-profile V from upstream (deleted upstream). */
  clearValue(profile: string, campaign: string): void {
    this.engine.clearValue(profile, campaign);
    this.persistPending();
  }

  purge(filter: PurgeFilter): number {
    const n = this.engine.purge(filter);
    for (const [k, e] of this.dirty) {
      if ((filter.profile === undefined || e.profile === filter.profile) && (filter.campaign === undefined || e.campaign === filter.campaign)) {
        this.dirty.delete(k);
      }
    }
    this.persistPending();
    this.collab.committer.flush(); // erasure is durable before the withdrawal is reported
    return n;
  }

  /**
   * Sync-time consent re-check (DESIGN §5): a signal whose campaign consent was withdrawn after queueing is never
   * sent, and a trigger's channels are filtered again by the channel consent in force now.
   */
  publishable(row: OutboxRow): SignalPayload | null {
    if (row.kind !== 'signal' || row.profile === null || row.campaign === null) return null;
    if (!this.consent.campaignAllows(row.profile, row.campaign)) return null;
    const p = JSON.parse(row.payload) as SignalPayload;
    if (p.trigger) {
      const channels = this.consent.allowedChannels(row.profile, p.channels);
      if (channels.length !== p.channels.length) return { ...p, channels, trigger: channels.length > 0 };
    }
    return p;
  }

  rows(now: number): EngagementRow[] {
    return this.engine
      .keysList()
      .sort((a, b) => byCodeUnits(a.profile + a.campaign, b.profile + b.campaign))
      .map((k) => {
        const c = this.engine.current(k.profile, k.campaign, now);
        const st = this.engine.armed(k.profile, k.campaign);
        return {
          profile: k.profile,
          campaign: k.campaign,
          index: c.index,
          r: c.r,
          f: c.f,
          v: c.v,
          armed: st.armed,
          lastTriggerAt: st.lastTriggerAt === null ? null : new Date(st.lastTriggerAt).toISOString(),
        };
      });
  }

  flush(): void {
    this.persistPending(true);
    this.collab.committer.flush();
  }
}
