import * as path from 'node:path';
import type { AgentConfig } from './config';
import type { Driver } from '../drivers/types';
import { EventBus } from './event-bus';
import type { Part, PartStatus } from './part';
import { openDatabase, databasePath, type Db } from './store/database';
import { GroupCommitter } from './store/group-commit';
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
import { DeviceCommander } from './devices/device-commander';
import { optOutByDeviceType } from './consent/opt-out';
import { signalsOfDevice } from './consent/offline-consent';
import type { StatusDocument } from './api/status';
import { OutboxPublisher } from './sync/outbox-publisher';
import { GenericProfile } from './sync/generic-profile';
import { ThingsboardProfile } from './sync/thingsboard-profile';
import { DownlinkHandler } from './sync/downlink-handler';
import { CampaignStore } from './store/campaign-store';
import { StorageBudget } from './store/storage-budget';
import type { SyncDocument } from './api/status';
import { createDrivers } from './drivers';
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
}

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
  private publisher: OutboxPublisher | null = null;
  scripts!: ScriptHost;
  private api: HttpApi | null = null;
  private drivers: Driver[] = [];
  private readonly parts: PartStatus[] = [];
  private timers: NodeJS.Timeout[] = [];
  private startedAt = 0;
  private triggers = 0;
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
    this.committer = new GroupCommitter(db, { maxDelayMs: cfg.storage.groupCommitMs, maxRows: cfg.storage.groupCommitRows });
    this.outbox = new OutboxStore(db);
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
      (deviceId, frame) => this.send(deviceId, frame),
      (deviceId) => this.pipeline.nextSeq(deviceId),
    );
    this.engagement.attach(this.committer);
    this.engagement.attachScripts(this.scripts);
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
        purgeEngagement: (f) => this.engagement.purge(f),
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
      engagement: this.engagement,
      deviceConsent: {
        onDeviceConsent: (s, subject, granted, at) => this.consent.fromDevice(s.id, subject, granted, s.categories(), at),
        consentState: (s) => this.consent.stateFor(s.id, s.categories()),
      },
      bus: this.bus,
      clock: this.clock,
      storageFull: () => this.budget.full,
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
      if (s) {
        s.lastSeen = rec.lastSeen;
        s.fw = rec.fw;
        s.model = rec.model;
      }
    }
    const seeded = this.consent.seed(grantsFromConfig(cfg));
    if (seeded > 0) log.info('consent grants from config recorded in the ledger', { grants: seeded });
    this.bus.on('trigger', () => this.triggers++);

    // Optional parts: each may fail on its own.
    if (this.opts.api !== false) {
      const token = ensureApiToken(cfg.gateway.dataDir);
      this.api = new HttpApi(
        { listen: cfg.api.listen, token },
        {
          status: () => this.status(),
          ...consentRoutes({ config: cfg, ledger: this.ledger, consent: this.consent, clock: this.clock }),
          ...deviceRoutes({ config: cfg, commander: this.commander }),
          sync: () => this.syncStatus(),
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
        clock: this.clock,
      });
      this.publisher = new OutboxPublisher(
        up,
        cfg.gateway.id,
        profile,
        this.outbox,
        (row) => (row.kind === 'consent' ? (JSON.parse(row.payload) as unknown) : this.engagement.publishable(row)),
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
    this.drivers = this.opts.drivers ?? createDrivers(cfg, log);
    for (const d of this.drivers) {
      await this.startPart({ name: `driver:${d.name}`, start: () => d.start(this.pipeline), stop: async () => undefined });
    }

    // Periodic work: engagement decay/re-arm, counters persistence, raw-data retention.
    this.timers.push(setInterval(() => this.engagement.tick(this.clock()), 1000));
    this.timers.push(setInterval(() => this.saveCounters(), 5000));
    this.timers.push(setInterval(() => this.enforceBudget(), 1000));
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
      storage: { usedBytes: this.budget.usedBytes(), maxBytes: this.budget.maxBytes, full: this.budget.full },
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
      scripts: this.scripts.status(),
      scriptOutcomes: {
        conditionRejected: this.engagement.conditionRejected,
        conditionFailed: this.engagement.conditionFailed,
        scoreFailed: this.engagement.scoreFailed,
      },
    };
  }

  private configuredType(id: string): string | null {
    const d = this.config.devices.find((x) => x.id === id);
    return d?.transport === 'sim' ? d.model : null;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
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
    await this.api?.stop();
    if (this.db) {
      this.saveCounters();
      this.engagement.flush();
      this.db.close();
      this.db = null;
    }
    this.scripts?.stop();
    for (const p of this.parts) if (p.state === 'running') p.state = 'stopped';
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
