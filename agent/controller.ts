import * as path from 'node:path';
import type { AgentConfig } from './config';
import type { Driver } from '../drivers/types';
import type { ChannelInfo } from '../firmware-bridge/protocol';
import { EventBus } from './event-bus';
import type { Part, PartStatus } from './part';
import { openDatabase, databasePath, type Db } from './store/database';
import { GroupCommitter } from './store/group-commit';
import { WalCheckpointer } from './store/wal-checkpointer';
import { IngestStore } from './store/ingest-store';
import { OutboxStore } from './store/outbox-store';
import { CounterStore } from './store/counter-store';
import { EngagementStore } from './store/engagement-store';
import { ConsentLedger } from './consent/consent-ledger';
import { ConsentService, type ConsentRequest } from './consent/consent-service';
import { IngestPipeline } from './pipeline/ingest-pipeline';
import { CampaignEngagement } from './pipeline/campaign-engagement';
import { HttpApi } from './api/http-api';
import { ensureApiToken } from './api/api-token';
import { consentRoutes } from './api/consent-routes';
import { deviceRoutes } from './api/device-routes';
import { HouseholdPanel, PanelLanListener, deviceFacts, ensurePairingCode } from './api/panel';
import { DeviceCommander } from './devices/device-commander';
import { OutcomeService, OutcomeStore } from './outcomes';
import { optOutByDeviceType } from './consent/opt-out';
import { signalsOfDevice } from './consent/offline-consent';
import type { StatusDocument } from './api/status';
import { OutboxPublisher } from './sync/outbox-publisher';
import { GenericProfile } from './sync/generic-profile';
import { ThingsboardProfile } from './sync/thingsboard-profile';
import { DownlinkHandler } from './sync/downlink-handler';
import { faults } from './service/last-resort';
import { CampaignStore } from './store/campaign-store';
import { StorageBudget, isDiskFull } from './store/storage-budget';
import type { SyncDocument } from './api/status';
import { createDrivers } from './drivers';
import { logActivity } from './logging/activity-log';
import { VERSION } from './version';
import { ScriptHost, loadConfiguredScripts, scriptLimits } from './sandbox';
import { ConfigError } from './config';
import type { Logger } from './logger';

export interface AgentOptions {
  logger: Logger;
  /** Replace the drivers built from config (tests, benchmarks). */
  drivers?: Driver[];
  clock?: () => number;
  /** Disable the HTTP API (benchmarks). */
  api?: boolean;
  /**
   * Asked by POST /api/reload (a pairing changed the config). The runner that owns this agent validates the file
   * and, when it is valid, replaces this agent with one built from it; without a runner, reload is refused.
   */
  reload?: () => { ok: true } | { ok: false; error: string };
}

/** Frames per second from which WAL checkpoints move to a worker thread (they stall the loop under load). */
const CHECKPOINT_WORKER_FROM_FRAMES_PER_S = 100;

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/**
 * Composition root (DESIGN §2, like Zigbee2MQTT's controller): builds every part from config, starts them in
 * order and stops them in reverse. The store is essential; any other part that fails to start is reported in
 * `status.parts` and the rest keep running.
 */
export class Agent {
  readonly bus = new EventBus();
  private db: Db | null = null;
  private committer!: GroupCommitter;
  private checkpointer: WalCheckpointer | null = null;
  outbox!: OutboxStore;
  ingestStore!: IngestStore;
  ledger!: ConsentLedger;
  consent!: ConsentService;
  pipeline!: IngestPipeline;
  engagement!: CampaignEngagement;
  private counters!: CounterStore;
  private budget!: StorageBudget;
  downlink: DownlinkHandler | null = null;
  commander!: DeviceCommander;
  outcomes!: OutcomeService;
  private publisher: OutboxPublisher | null = null;
  scripts!: ScriptHost;
  private api: HttpApi | null = null;
  private panel: HouseholdPanel | null = null;
  private panelLan: PanelLanListener | null = null;
  private drivers: Driver[] = [];
  private readonly parts: PartStatus[] = [];
  /** links closing because the agent stops are not link losses: the activity log stops listening first */
  private stopActivityLog: () => void = () => undefined;
  private timers: NodeJS.Timeout[] = [];
  private startedAt = 0;
  private triggers = 0;
  private diskFullPending = false;
  private readonly clock: () => number;

  constructor(
    readonly config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  get database(): Db {
    if (!this.db) throw new Error('agent not started');
    return this.db;
  }

  get apiAddress(): string | null {
    return this.api?.address() ?? null;
  }

  /** The LAN-mode panel listener's address (api.panel.lanListen), if it runs. */
  get panelLanAddress(): string | null {
    return this.panelLan?.address() ?? null;
  }

  /** Live events for open panels, the LAN listener if configured, and where to find the panel and its code. */
  private async startPanel(panel: HouseholdPanel): Promise<void> {
    const cfg = this.config;
    ensurePairingCode(cfg.gateway.dataDir); // made now, so `edge-agent panel` can show it
    panel.start();
    const lanListen = cfg.api.panel?.lanListen;
    if (lanListen) {
      const lan = new PanelLanListener(lanListen, panel);
      this.panelLan = lan;
      await this.startPart({ name: 'panel-lan', start: () => lan.start(), stop: async () => undefined });
    }
    const urls = [this.apiAddress, this.panelLanAddress].filter((a): a is string => a !== null).map((a) => `http://${a}/panel/`);
    // The pairing code is a credential: never in the log (journald is readable by more people than the household).
    this.opts.logger.info('household privacy panel: `edge-agent panel` shows its pairing code', { urls, lan: lanListen !== undefined });
  }

  async start(): Promise<void> {
    const cfg = this.config;
    const log = this.opts.logger;
    this.startedAt = this.clock();

    // User scripts compile first: a config whose scripts do not compile is refused like any invalid config.
    this.scripts = new ScriptHost({
      limits: scriptLimits(cfg),
      clock: this.clock,
      onDisabled: (id, error, until) => log.warn('script disabled after 3 failures in a row', { script: id, kind: error.kind, error: error.detail, until: new Date(until).toISOString() }),
    });
    const scriptIssues = await loadConfiguredScripts(this.scripts, cfg);
    if (scriptIssues.length > 0) throw new ConfigError(scriptIssues);

    // Essential: storage, consent, engagement. A failure here stops the start.
    const db = openDatabase(databasePath(cfg.gateway.dataDir));
    this.db = db;
    // WAL checkpoints (megabytes and two fsyncs) in a worker thread, not inside a commit on the event loop (#11).
    // Started once ingest is busy (see below): at home load SQLite's own checkpoint is cheap, and the worker
    // thread costs ~10 MiB of RSS a quiet gateway should not pay.
    this.checkpointer = new WalCheckpointer(db, 100, (message) => log.warn(message));
    // fsyncOffLoop: acks still wait for the WAL fsync, but decoding and decisions no longer stall behind it (#11).
    // The uplink only ever reads durable rows: a signal is never published for an event a power cut could still
    // take back (its device would retransmit it, and a second signal with a new id would follow).
    this.outbox = new OutboxStore(db);
    const outbox = this.outbox;
    this.committer = new GroupCommitter(db, {
      maxDelayMs: cfg.storage.groupCommitMs,
      maxRows: cfg.storage.groupCommitRows,
      fsyncOffLoop: true,
      mark: () => outbox.lastId(),
      onDurable: () => this.bus.emit('outbox', { rows: 0 }),
    });
    const committer = this.committer;
    outbox.onlyDurableUpTo(() => committer.durableMark());
    this.ingestStore = new IngestStore(db);
    this.counters = new CounterStore(db);
    this.ledger = new ConsentLedger(db);
    this.ledger.load();

    const engagementStore = new EngagementStore(db);
    this.engagement = new CampaignEngagement(
      cfg,
      engagementStore,
      this.outbox,
      this.ledger.rules,
      this.bus,
    );
    this.engagement.attach(this.committer);
    this.engagement.attachScripts(this.scripts);
    this.outcomes = new OutcomeService({
      config: cfg,
      store: new OutcomeStore(db),
      committer: this.committer,
      outbox: this.outbox,
      consent: this.ledger.rules,
      bus: this.bus,
      commander: { send: (device, command, args, o) => this.commander.send(device, command, args, o) },
      devices: () => [...this.pipeline.sessions.values()].map((s) => ({ id: s.id, type: s.model ?? this.configuredType(s.id), profile: s.profile })),
      indexRows: (now) => this.engagement.rows(now),
      clock: this.clock,
    });
    this.engagement.attachTriggerOutcomes((t) => this.outcomes.onTrigger(t));
    this.outcomes.start();
    const campaignStore = new CampaignStore(db);
    for (const c of campaignStore.load()) this.engagement.upsertCampaign(c); // definitions received from upstream
    this.engagement.load(this.clock());
    this.budget = new StorageBudget(db, cfg.storage.maxBytes);

    for (const [category, version] of Object.entries(cfg.consent.requirePolicy)) {
      this.ledger.rules.requirePolicyVersion(category, version);
    }
    this.consent = new ConsentService(
      db,
      this.ledger,
      this.outbox,
      this.bus,
      {
        beforeChange: () => this.committer.flush(),
        // outcome history (purchases, presence, triggers) is erased with the same scope as engagement state
        purgeEngagement: (f) => (this.outcomes.purge(f), this.engagement.purge(f)),
        eraseRaw: (device, category) => this.ingestStore.eraseDevice(device, category),
        purgeSignalsOfDevice: (device) => signalsOfDevice(cfg, device).reduce((n, scope) => n + this.outbox.purge(scope), 0),
        deviceConsentChanged: (device) => this.pushConsentState(device),
      },
      {
        gatewayId: cfg.gateway.id,
        policyVersion: cfg.consent.policyVersion,
        deviceButtonMayGrant: cfg.consent.deviceButtonMayGrant,
      },
    );

    this.pipeline = new IngestPipeline({
      committer: this.committer,
      store: this.ingestStore,
      consent: this.ledger.rules,
      engagement: {
        // engagement first, then outcomes (purchases, presence): both written in the event's transaction
        onEvent: (s, event, category, at, detail) => {
          const e = this.engagement.onEvent(s, event, category, at, detail);
          const o = this.outcomes.onEvent(s, event, category, at);
          if (o.persist === null) return e;
          const ep = e.persist;
          const op = o.persist;
          return { persist: () => (ep?.(), op()), afterCommit: e.afterCommit };
        },
      },
      deviceConsent: {
        onDeviceConsent: (s, subject, granted, at) => this.consent.fromDevice(s.id, subject, granted, s.categories(), at),
        consentState: (s) => this.consent.stateFor(s.id, s.categories()),
      },
      bus: this.bus,
      clock: this.clock,
      storageFull: () => this.budget.refuseNow(),
      ...(cfg.ingest ? { maxFramesPerSecondPerDevice: cfg.ingest.maxFramesPerSecondPerDevice } : {}),
      onStoreError: (err) => this.onStoreError(err),
    });
    const savedCounters = this.counters.load();
    this.pipeline.counters.restore(savedCounters);
    this.budget.restore(savedCounters);
    this.enforceBudget();
    this.commander = new DeviceCommander(this.bus, {
      send: (deviceId, frame) => this.send(deviceId, frame),
      nextSeq: (deviceId) => this.pipeline.nextSeq(deviceId),
    });
    for (const d of cfg.devices) this.pipeline.register(d.id, d.transport, d.profile ?? null);
    for (const rec of this.ingestStore.devices()) {
      const s = this.pipeline.sessions.get(rec.id);
      if (s) s.restore({ fw: rec.fw, model: rec.model, lastSeen: rec.lastSeen, channels: parseChannels(rec.channels) });
    }
    // The duplicate window as it was at the crash or stop: retransmissions of committed frames stay duplicates.
    for (const s of this.pipeline.sessions.values()) s.restoreSeqs(this.ingestStore.seqs(s.id));
    const seeded = this.consent.seed(grantsFromConfig(cfg));
    if (seeded > 0) log.info('consent grants from config recorded in the ledger', { grants: seeded });
    this.bus.on('trigger', () => this.triggers++);
    this.stopActivityLog = logActivity(this.bus, log);

    // Optional parts: each may fail on its own.
    if (this.opts.api !== false) {
      const token = ensureApiToken(cfg.gateway.dataDir);
      const consentApi = consentRoutes({ config: cfg, ledger: this.ledger, consent: this.consent, clock: this.clock });
      // The household panel changes consent through the same route as the CLI (docs/panel.md).
      const panel =
        cfg.api.panel?.enabled === false
          ? null
          : new HouseholdPanel({
              config: cfg,
              ledger: this.ledger,
              consentChange: consentApi.consentChange,
              devices: () => deviceFacts(this.pipeline.sessions.values()),
              bus: this.bus,
              clock: this.clock,
            });
      this.panel = panel;
      this.api = new HttpApi(
        { listen: cfg.api.listen, token, ...(panel ? { panel } : {}) },
        {
          status: () => this.status(),
          ...consentApi,
          ...deviceRoutes({ config: cfg, commander: this.commander }),
          sync: () => this.syncStatus(),
          reload: () => {
            if (!this.opts.reload) return { status: 409, body: { error: 'this agent was not started by `edge-agent run`: restart it instead' } };
            const r = this.opts.reload();
            return r.ok ? { status: 200, body: { reloading: true, startedAt: new Date(this.startedAt).toISOString() } } : { status: 400, body: { error: r.error } };
          },
          syncFlush: async (body) => {
            const t = (body as { timeoutMs?: unknown } | null)?.timeoutMs;
            const timeoutMs = typeof t === 'number' && t > 0 && t <= 600_000 ? t : 30_000;
            if (!this.publisher) return { status: 409, body: { error: 'no upstream configured (add upstream: to the config)' } };
            const started = Date.now();
            const r = await this.publisher.flushNow(timeoutMs);
            return { status: 200, body: { ...r, tookMs: Date.now() - started, sync: this.syncStatus() } };
          },
        },
      );
      await this.startPart({ name: 'api', start: () => this.api!.start(), stop: async () => undefined });
      if (panel) await this.startPanel(panel);
    }
    if (cfg.upstream) {
      const up = cfg.upstream;
      const profiles = [...new Set(cfg.devices.map((d) => d.profile).filter((p): p is string => !!p))];
      const profile =
        up.profile === 'thingsboard'
          ? new ThingsboardProfile(profiles, cfg.campaigns.filter((c) => c.value.kind === 'upstream').map((c) => c.id))
          : new GenericProfile(up.baseTopic, cfg.gateway.id);
      this.downlink = new DownlinkHandler({
        config: cfg,
        consent: this.consent,
        engagement: this.engagement,
        saveCampaign: (c) => campaignStore.save(c),
        outcomes: this.outcomes,
        clock: this.clock,
      });
      this.publisher = new OutboxPublisher(
        up,
        cfg.gateway.id,
        profile,
        this.outbox,
        // consent receipts and outcome aggregates carry no household data beyond what they are for
        (row) => (row.kind === 'consent' || row.kind === 'outcomes' ? (JSON.parse(row.payload) as unknown) : this.engagement.publishable(row)),
        this.bus,
        this.downlink,
        () => {
          const st = this.status();
          return {
            outboxPending: st.outbox.pending,
            outboxOldestAgeS: st.outbox.oldestAgeS,
            droppedRows: st.outbox.dropped,
            devicesConnected: st.devices.filter((d) => d.connected).length,
            framesAccepted: st.ingest.accepted,
          };
        },
      );
      const pub = this.publisher;
      await this.startPart({ name: 'sync', start: () => pub.start(), stop: async () => undefined });
    }
    this.drivers = this.opts.drivers ?? createDrivers(cfg, log, { scripts: () => this.scripts });
    for (const d of this.drivers) {
      await this.startPart({ name: `driver:${d.name}`, start: () => d.start(this.pipeline), stop: async () => undefined });
    }

    // Periodic work: engagement decay/re-arm, counters persistence, raw-data retention.
    this.timers.push(setInterval(() => this.engagement.tick(this.clock()), 1000));
    const outcomes = cfg.outcomes;
    this.timers.push(setInterval(() => this.outcomes.tick(this.clock()), Math.min(60, outcomes?.sampleIntervalS ?? 60) * 1000));
    // aggregates are for upstream only: without one they would just sit in the outbox
    if (cfg.upstream) this.timers.push(setInterval(() => this.outcomes.enqueueSignals(this.clock()), (outcomes?.signalIntervalS ?? 3600) * 1000));
    this.timers.push(setInterval(() => this.saveCounters(), 5000));
    this.timers.push(setInterval(() => this.enforceBudget(), 1000));
    let acceptedBefore = this.pipeline.counters.accepted;
    const busyCheck = setInterval(() => {
      const rate = this.pipeline.counters.accepted - acceptedBefore;
      acceptedBefore = this.pipeline.counters.accepted;
      if (rate < CHECKPOINT_WORKER_FROM_FRAMES_PER_S) return;
      clearInterval(busyCheck); // once: a worker that cannot start falls back to SQLite's own checkpoint for good
      this.checkpointer?.start();
    }, 1000);
    this.timers.push(busyCheck);
    this.timers.push(
      setInterval(() => this.ingestStore.sweep(this.clock() - cfg.storage.rawRetentionDays * 86_400_000), 3_600_000),
    );
    for (const t of this.timers) t.unref();
    log.info('agent started', { gateway: cfg.gateway.id, devices: cfg.devices.length, db: path.resolve(databasePath(cfg.gateway.dataDir)) });
  }

  private async startPart(part: Part): Promise<void> {
    const st: PartStatus = { name: part.name, state: 'stopped', error: null };
    this.parts.push(st);
    try {
      await part.start();
      st.state = 'running';
    } catch (err) {
      st.state = 'failed';
      st.error = err instanceof Error ? err.message : String(err);
      this.opts.logger.error(`part ${part.name} failed to start`, { error: st.error });
    }
  }

  /** Sends a gateway frame to a device through whichever driver owns it. */
  send(deviceId: string, frame: Parameters<Driver['send']>[1]): boolean {
    for (const d of this.drivers) if (d.send(deviceId, frame)) return true;
    return false;
  }

  private pushConsentState(device: string): void {
    const s = this.pipeline.sessions.get(device);
    if (!s || !s.connected) return;
    this.send(device, {
      type: 'consent-state',
      seq: this.pipeline.nextSeq(device),
      body: { cats: this.consent.stateFor(device, s.categories()) },
    });
  }

  /** Applies a consent change (CLI, panel, upstream) and returns what it erased. */
  changeConsent(req: ConsentRequest): ReturnType<ConsentService['change']> {
    return this.consent.change(req, this.clock());
  }

  /**
   * A frame could not be written (it was not acked, the device keeps it). On a full disk the drop policy is
   * applied against what the disk holds, at once rather than at the next periodic check.
   */
  private onStoreError(err: Error): void {
    if (!isDiskFull(err) || this.diskFullPending) return;
    this.diskFullPending = true;
    this.budget.onDiskFull();
    this.opts.logger.error('the disk is full: new frames are refused (not acked) until the drop policy makes room', { error: err.message });
    setImmediate(() => {
      this.diskFullPending = false;
      this.enforceBudget();
    });
  }

  private enforceBudget(): void {
    if (!this.db) return;
    try {
      const wasFull = this.budget.full;
      const dropped = this.budget.enforce();
      if (Object.keys(dropped).length > 0) this.opts.logger.warn('storage.maxBytes reached: dropped by policy', dropped);
      if (this.budget.full !== wasFull) {
        this.opts.logger[this.budget.full ? 'error' : 'info'](
          this.budget.full ? 'storage full of data that is never dropped: refusing new frames until space returns' : 'storage has room again',
          { usedBytes: this.budget.usedBytes(), maxBytes: this.budget.maxBytes },
        );
      }
    } catch (err) {
      this.opts.logger.error('storage budget check failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private saveCounters(): void {
    if (!this.db) return;
    try {
      this.counters.save(new Map([...this.pipeline.counters.toMap(), ...this.budget.toMap()]));
    } catch (err) {
      this.opts.logger.warn('could not save counters', { error: err instanceof Error ? err.message : String(err) });
    }
  }


  /** `edge-agent sync` / GET /api/sync: the uplink, the outbox by kind and the drop counters. */
  syncStatus(): SyncDocument {
    const st = this.status();
    const byKind = this.database.prepare('SELECT kind, count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM outbox GROUP BY kind').all() as Array<{
      kind: string;
      n: number;
      bytes: number;
    }>;
    const up = this.config.upstream;
    return {
      configured: up !== undefined,
      upstream: st.upstream,
      outbox: { ...st.outbox, byKind: Object.fromEntries(byKind.map((r) => [r.kind, { rows: r.n, bytes: r.bytes }])) },
      storage: st.storage,
      batch: up ? { ...up.batch, maxPayloadBytes: up.maxPayloadBytes } : null,
    };
  }

  status(): StatusDocument {
    const now = this.clock();
    const depth = this.outbox.depth();
    const oldest = this.outbox.oldestCreatedAt();
    const pub = this.publisher?.status;
    return {
      gateway: {
        id: this.config.gateway.id,
        version: VERSION,
        uptimeS: Math.round((now - this.startedAt) / 1000),
        startedAt: new Date(this.startedAt).toISOString(),
      },
      devices: [...this.pipeline.sessions.values()].map((s) => ({
        id: s.id,
        transport: s.transport,
        type: s.model,
        profile: s.profile,
        connected: s.connected,
        lastSeen: iso(s.lastSeen),
        framesOk: s.framesOk,
        framesBad: s.framesBad,
        fw: s.fw,
        link: s.linkDetail,
        rssi: s.rssi,
        uptimeS: s.uptimeS,
        rateLimited: s.rateLimited,
      })),
      ingest: this.pipeline.counters.snapshot(),
      engagement: this.engagement.rows(now),
      triggers: { total: this.triggers },
      outbox: {
        pending: depth.pending,
        bytes: depth.bytes,
        oldestAgeS: oldest === null ? null : Math.max(0, Math.round((now - oldest) / 1000)),
        dropped: this.budget.total(),
        droppedByReason: Object.fromEntries(this.budget.dropped),
        droppedNoConsentAtSync: this.publisher?.droppedNoConsent ?? 0,
      },
      storage: {
        usedBytes: this.budget.usedBytes(),
        maxBytes: this.budget.maxBytes,
        full: this.budget.full,
        diskFull: this.budget.diskLimit !== null,
        limitBytes: this.budget.limitBytes,
      },
      upstream: {
        connected: pub?.connected ?? false,
        published: pub?.published ?? 0,
        lastAckAt: iso(pub?.lastAckAt ?? null),
        url: pub?.url ?? null,
        profile: pub?.profile ?? null,
        error: pub?.error ?? null,
        connects: pub?.connects ?? 0,
        messages: pub?.messages ?? 0,
        payloadBytes: pub?.payloadBytes ?? 0,
        inFlightRows: pub?.inFlightRows ?? 0,
        nextRetryAt: iso(pub?.nextRetryAt ?? null),
        downlink: { accepted: this.downlink?.accepted ?? 0, rejected: this.downlink?.rejected ?? 0, lastError: this.downlink?.lastError ?? null },
      },
      consent: {
        optOutByDeviceType: optOutByDeviceType(
          [...this.pipeline.sessions.values()].map((s) => ({ id: s.id, type: s.model ?? this.configuredType(s.id) })),
          this.ledger.rules,
        ),
        ledgerEntries: this.ledger.length,
      },
      parts: this.parts.map((p) => ({ ...p })),
      drivers: this.drivers.map((d) => ({ name: d.name, ...(d.stats ? { stats: d.stats() } : {}) })),
      scripts: this.scripts.status(),
      outcomes: this.outcomes.document(now),
      scriptOutcomes: {
        conditionRejected: this.engagement.conditionRejected,
        conditionFailed: this.engagement.conditionFailed,
        scoreFailed: this.engagement.scoreFailed,
      },
      faults: { ...faults, lastAt: iso(faults.lastAt) },
    };
  }

  private configuredType(id: string): string | null {
    const d = this.config.devices.find((x) => x.id === id);
    return d?.transport === 'sim' ? d.model : null;
  }

  async stop(): Promise<void> {
    this.stopActivityLog();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.outcomes?.stop();
    this.commander?.stop();
    for (const d of [...this.drivers].reverse()) {
      try {
        await d.stop();
      } catch (err) {
        this.opts.logger.warn(`driver ${d.name} did not stop cleanly`, { error: String(err) });
      }
    }
    this.committer?.close(); // commit (and ack) what was accepted
    await this.publisher?.stop().catch(() => undefined);
    this.panel?.stop();
    await this.panelLan?.stop();
    await this.api?.stop();
    if (this.db) {
      this.saveCounters();
      this.engagement.flush();
      await this.checkpointer?.stop();
      this.checkpointer = null;
      this.db.close();
      this.db = null;
    }
    this.scripts?.stop();
    for (const p of this.parts) if (p.state === 'running') p.state = 'stopped';
  }
}

/** The registry's `channels` column (the last hello's list, JSON); anything unreadable counts as no channels. */
function parseChannels(json: string): ChannelInfo[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as ChannelInfo[]) : [];
  } catch {
    return [];
  }
}

/** Config `consent.grants` → ledger requests (recorded as given by the installing technician, source `cli`). */
export function grantsFromConfig(cfg: AgentConfig): ConsentRequest[] {
  const policyVersion = cfg.consent.policyVersion;
  return cfg.consent.grants.map((g): ConsentRequest => {
    if ('device' in g) return { scope: 'device', subject: g.device, target: g.category, granted: true, source: 'cli', policyVersion };
    if ('campaign' in g) return { scope: 'campaign', subject: g.profile, target: g.campaign, granted: true, source: 'cli', policyVersion };
    return { scope: 'channel', subject: g.profile, target: g.channel, granted: true, source: 'cli', policyVersion };
  });
}
