import * as path from 'node:path';
import type { AgentConfig } from './config';
import type { Driver } from '../drivers/types';
import type { GatewayFrame } from '../firmware-bridge/protocol';
import { EventBus } from './event-bus';
import { Lifecycle } from './part';
import { databasePath } from './store/database';
import type { StatusDocument } from './api/status';
import type { ConsentRequest, ConsentResult } from './consent/consent-service';
import { createDrivers } from './drivers';
import type { ScriptHost } from './sandbox';
import { VERSION } from './version';
import { faults } from './service/last-resort';
import type { Logger } from './logger';
import { StatusBoard } from './parts/status-board';
import type { BaseContext } from './parts/context';
import { ScriptsPart } from './parts/scripts-part';
import { StorePart } from './parts/store-part';
import { StorageBudgetPart } from './parts/storage-budget-part';
import { LedgerPart } from './parts/ledger-part';
import { DevicesPart } from './parts/devices-part';
import { OutcomesPart } from './parts/outcomes-part';
import { EngagementPart } from './parts/engagement-part';
import { ConsentPart } from './parts/consent-part';
import { PipelinePart } from './parts/pipeline-part';
import { ActivityLogPart } from './parts/activity-log-part';
import { SyncPart } from './parts/sync-part';
import { ApiPart, PanelLanPart } from './parts/api-part';
import { DriverPart } from './parts/driver-part';
import { FirmwarePart } from './parts/firmware-part';

export interface AgentOptions {
  logger: Logger;
  /**
   * Replace the drivers built from config (tests, benchmarks), like serialport's injected bindings: a list, or a
   * factory given the agent's script host (BLE decoder scripts run in it).
   */
  drivers?: Driver[] | ((scripts: ScriptHost) => Driver[]);
  clock?: () => number;
  /** Disable the HTTP API (benchmarks). */
  api?: boolean;
  /**
   * Asked by POST /api/reload (a pairing changed the config). The runner that owns this agent validates the file
   * and, when it is valid, replaces this agent with one built from it; without a runner, reload is refused.
   */
  reload?: () => { ok: true } | { ok: false; error: string };
}

type Running = Awaited<ReturnType<Agent['startParts']>>;

/**
 * Composition root (DESIGN §2, like Zigbee2MQTT's controller). The parts, in the order they start; each gets what
 * the parts before it provide and is stopped in reverse:
 *
 *   scripts         user scripts compiled: a config whose scripts fail is refused
 *   store           the SQLite file, WAL checkpointer, group committer, outbox, raw readings
 *   storage-budget  storage.maxBytes and the full disk (drops by policy, refuses frames)
 *   consent-ledger  the ledger and the rules it yields (default deny)
 *   devices         the device registry, send routing through the drivers' links, device commands
 *   outcomes        triggers, purchases, presence, delivery through the device
 *   engagement      the index per (profile, campaign), decay and re-arm
 *   consent         consent changes from every source and the erasure of a withdrawal; grants from config
 *   pipeline        driver frames → consent → store → engagement and outcomes
 *   activity-log    what happens, in the log
 *   sync            optional (upstream:): store-and-forward to the broker, downlink
 *   api             optional: local HTTP API and the household panel; panel-lan: its LAN listener
 *   driver:<name>   optional, one per transport: frames in, sends out
 *   firmware        optional: fleet firmware updates (download over the sync's connection, rollout over USB)
 *
 * Essential parts (through the pipeline) failing stop the start: what had started is stopped and the error
 * propagates. An optional part that fails is reported in `status.parts` and the rest keep running.
 */
export class Agent {
  readonly bus = new EventBus();
  private readonly board = new StatusBoard();
  private readonly clock: () => number;
  private life: Lifecycle;
  private running: Running | null = null;

  constructor(
    readonly config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.life = new Lifecycle(opts.logger);
  }

  async start(): Promise<void> {
    const startedAt = this.clock();
    this.life = new Lifecycle(this.opts.logger);
    const life = this.life;
    this.board.set('gateway', (now) => ({
      id: this.config.gateway.id,
      version: VERSION,
      uptimeS: Math.round((now - startedAt) / 1000),
      startedAt: new Date(startedAt).toISOString(),
    }));
    this.board.set('parts', () => life.statuses.map((p) => ({ ...p })));
    this.board.set('faults', () => ({ ...faults, lastAt: faults.lastAt === null ? null : new Date(faults.lastAt).toISOString() }));
    this.running = await this.startParts(life, startedAt);
    const cfg = this.config;
    this.opts.logger.info('agent started', { gateway: cfg.gateway.id, devices: cfg.devices.length, db: path.resolve(databasePath(cfg.gateway.dataDir)) });
  }

  private async startParts(life: Lifecycle, startedAt: number) {
    const { config, opts } = this;
    const base: BaseContext = { config, logger: opts.logger, clock: this.clock, bus: this.bus, status: this.board };
    const withScripts = await life.start(new ScriptsPart(), base);
    const withStore = await life.start(new StorePart(), withScripts);
    const withBudget = await life.start(new StorageBudgetPart(), withStore);
    const withLedger = await life.start(new LedgerPart(), withBudget);
    const withDevices = await life.start(new DevicesPart(), withLedger);
    const withOutcomes = await life.start(new OutcomesPart(), withDevices);
    const withEngagement = await life.start(new EngagementPart(), withOutcomes);
    const withConsent = await life.start(new ConsentPart(), withEngagement);
    const core = await life.start(new PipelinePart(), withConsent);
    await life.start(new ActivityLogPart(), core);

    const sync = config.upstream ? await life.startOptional(new SyncPart(config.upstream), core) : null;
    const served = { ...core, publisher: sync?.publisher ?? null };
    const api = opts.api === false ? null : await life.startOptional(new ApiPart({ reload: opts.reload, startedAt }), served);
    const lanListen = config.api.panel.lanListen;
    const lan = api?.panel && lanListen ? await life.startOptional(new PanelLanPart(lanListen), { ...served, panel: api.panel }) : null;
    const drivers = typeof opts.drivers === 'function' ? opts.drivers(core.scripts) : (opts.drivers ?? createDrivers(config, opts.logger, { scripts: core.scripts }));
    for (const d of drivers) await life.startOptional(new DriverPart(d), core);
    await life.startOptional(new FirmwarePart(drivers), served);
    return { ...served, api: api?.api ?? null, panelLan: lan?.panelLan ?? null };
  }

  /** Stops every part that started, last first; links closing from now on are not logged as link losses. */
  async stop(): Promise<void> {
    this.bus.emit('stopping', { at: this.clock() });
    await this.life.stop();
    this.running = null;
  }

  private get parts(): Running {
    if (!this.running) throw new Error('agent not started');
    return this.running;
  }

  status(): StatusDocument {
    if (!this.running) throw new Error('agent not started');
    return this.board.document(this.clock());
  }

  /** Applies a consent change (CLI, panel, upstream) and returns what it erased. */
  changeConsent(req: ConsentRequest): ConsentResult {
    return this.parts.consent.change(req, this.clock());
  }

  /** Sends a gateway frame to a device through whichever driver owns it. */
  send(deviceId: string, frame: GatewayFrame): boolean {
    return this.parts.links.send(deviceId, frame);
  }

  get apiAddress(): string | null {
    return this.running?.api?.address() ?? null;
  }

  /** The LAN-mode panel listener's address (api.panel.lanListen), if it runs. */
  get panelLanAddress(): string | null {
    return this.running?.panelLan?.address() ?? null;
  }

  // What tests, benchmarks and the demo look into.
  get database() {
    return this.parts.db;
  }
  get ledger() {
    return this.parts.ledger;
  }
  get consent() {
    return this.parts.consent;
  }
  get pipeline() {
    return this.parts.pipeline;
  }
  get engagement() {
    return this.parts.engagement;
  }
  get outcomes() {
    return this.parts.outcomes;
  }
  get commander() {
    return this.parts.commander;
  }
  get outbox() {
    return this.parts.outbox;
  }
  get scripts() {
    return this.parts.scripts;
  }
}
