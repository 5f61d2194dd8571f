import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildConfig, type AgentConfig } from '../../agent/config';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { CampaignStore } from '../../agent/store/campaign-store';
import { DownlinkHandler } from '../../agent/sync/downlink-handler';
import { GenericProfile } from '../../agent/sync/generic-profile';
import type { SyncProfile, SyncProfileName } from '../../agent/sync/sync-profile';
import { ThingsboardProfile } from '../../agent/sync/thingsboard-profile';
import { HOUSEHOLD_SECTIONS } from '../../test/sync/household';
import { Mosquitto, hasMosquitto } from '../../test/support/mosquitto';
import { freePort } from '../../test/support/free-port';
import { waitUntil } from '../../test/support/wait-until';
import { runApi } from './api-fuzz-phase';
import { ledgerProblems } from './ledger-invariants';
import { BrokerFeed } from './broker-downlink';
import { DownlinkObserver, type DownlinkFigures } from './downlink-observer';
import { runFrames, type FrameFigures } from './frame-fuzz';
import { HOUSEHOLD, PROTOTYPE_NAMES, downlinkBodies, hostileValue, payloadOf } from './hostile-inputs';

/**
 * The fuzz campaign of issue #21 against real agents (real SQLite file, real HTTP listener with the household
 * panel): hostile device traffic (hello and data frames, noise) through the drivers' decode path and the ingest
 * pipeline; hostile downlink messages for both profiles, fed to a downlink handler directly and published
 * through a real Mosquitto broker to agents subscribed as in production (one per profile); hostile HTTP requests,
 * many at once.
 * It counts:
 * - crashes: the frame or downlink path throwing, a reply that is not JSON or is unbounded, an HTTP 5xx or a
 *   dropped connection, anything reaching the process's last-resort events;
 * - state changes from rejected messages: any mutating call (consent applied, V set, campaign saved, conversion
 *   recorded) made while handling a message that was answered with an error, any change of the consent ledger
 *   caused by HTTP requests that carry no valid credentials, rows stored from frames without consent, consent
 *   granted by a device, hellos answered beyond their rate limit;
 * - file reads outside the data directory: every fs call that opens, reads, lists or probes a path, wrapped
 *   for the campaign's duration.
 * Invariants checked along the way: the ledger verifies, stays in time order, never dated ahead, and never holds
 * an upstream grant of a special category or "*".
 */

export interface FuzzBudget {
  /** downlink messages fed to a downlink handler directly (both profiles) */
  downlink: number;
  /** downlink messages published through a real Mosquitto broker to the agents (both profiles) */
  brokerDownlink: number;
  /** byte runs (frames, cut frames, noise) on the household's device links */
  frames: number;
  api: number;
  concurrency: number;
  seed: number;
}

export interface FuzzReport {
  seed: number;
  frames: FrameFigures;
  downlink: DownlinkFigures;
  api: { requests: number; byStatus: Record<string, number>; crashes: number; stateChangesWithoutCredentials: number; perSecond: number };
  invariantViolations: string[];
  fileReadsOutsideDataDir: string[];
  crashDetails: string[];
  /** stopped before the budget was spent (`stop` signalled): the figures are what was done */
  interrupted: boolean;
  ms: number;
}

const GATEWAY = 'gw-fuzz';

/** Without a broker the upstream is never reachable: the downlink path is fed directly, the uplink stays quiet. */
const NO_BROKER = 'mqtt://127.0.0.1:1';

function config(dataDir: string, broker: string, profile: SyncProfileName): AgentConfig {
  return buildConfig({
    // the MQTT client id is the gateway's: two agents with one id would take the broker session from each other
    gateway: { id: profile === 'generic' ? GATEWAY : `${GATEWAY}-tb`, dataDir },
    api: { listen: '127.0.0.1:0', panel: { enabled: true } },
    upstream: { url: broker, profile, reconnect: broker === NO_BROKER ? { minMs: 60_000, maxMs: 60_000 } : { minMs: 50, maxMs: 500 } },
    // the frame phase fuzzes what frames carry; the per-device rate limit is flood.test.ts's (hellos keep theirs)
    ingest: { maxFramesPerSecondPerDevice: 1_000_000 },
    ...HOUSEHOLD_SECTIONS,
    consent: {
      grants: [
        { device: 'scale-a', category: 'usage' },
        { profile: 'home-a', campaign: 'coffee' },
        { profile: 'home-a', channel: 'push' },
      ],
    },
    log: { level: 'error' },
  });
}

type FsName = 'readFileSync' | 'openSync' | 'readdirSync' | 'statSync' | 'lstatSync' | 'existsSync' | 'accessSync' | 'readFile' | 'open' | 'createReadStream' | 'opendirSync';
const WATCHED: FsName[] = ['readFileSync', 'openSync', 'readdirSync', 'statSync', 'lstatSync', 'existsSync', 'accessSync', 'readFile', 'open', 'createReadStream', 'opendirSync'];

/** Wraps the fs calls that touch a path; returns the paths touched outside `dirs` and the unwrapper. */
function watchFiles(dirs: readonly string[]): { outside: Set<string>; restore: () => void } {
  const outside = new Set<string>();
  const roots = dirs.map((d) => path.resolve(d) + path.sep);
  const originals = new Map<FsName, unknown>();
  // the module object itself (an ES namespace import is a read-only view of it); every importer sees the wrapper
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require('node:fs') as Record<FsName, (...a: unknown[]) => unknown>;
  for (const name of WATCHED) {
    const orig = m[name];
    originals.set(name, orig);
    m[name] = function (this: unknown, ...a: unknown[]): unknown {
      const p = a[0];
      // `node:net` and the like are module specifiers a module loader probes (jest's does), not files
      if ((typeof p === 'string' && !p.startsWith('node:')) || Buffer.isBuffer(p) || p instanceof URL) {
        const abs = path.resolve(p instanceof URL ? p.pathname : String(p));
        if (!roots.some((root) => (abs + path.sep).startsWith(root))) outside.add(`${name} ${abs}`);
      }
      return orig.apply(this, a);
    };
  }
  return {
    outside,
    restore: () => {
      for (const [name, orig] of originals) m[name] = orig as (...a: unknown[]) => unknown;
    },
  };
}

/** A temp directory on tmpfs when there is one: a million downlinks commit thousands of consent changes. */
function scratchDir(): { dir: string; cleanup: () => void } {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'edge-fuzz-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

interface DownlinkCase {
  profile: SyncProfileName;
  topic: string;
  payload: Buffer;
}

function downlinkCases(now: number): fc.Arbitrary<DownlinkCase> {
  const bodies = downlinkBodies(HOUSEHOLD, now);
  const kinds = ['consent', 'campaign', 'value', 'conversion'] as const;
  const anyBody = fc.constantFrom(...kinds).chain((k) => bodies[k]);
  const generic = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...kinds).chain((k) => payloadOf(bodies[k]).map((payload) => ({ topic: `edge/${GATEWAY}/set/${k}`, payload }))) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES, 'nope', 'consent/x', ''), payloadOf(anyBody)).map(([w, payload]) => ({ topic: `edge/${GATEWAY}/set/${w}`, payload })) },
  ).map((c) => ({ ...c, profile: 'generic' as const }));
  const method = fc.constantFrom('setConsent', 'setCampaign', 'setValue', 'reportConversion', ...PROTOTYPE_NAMES, 'nope');
  const params = fc.oneof(anyBody, hostileValue);
  const tb = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.oneof(fc.nat(1_000_000).map(String), fc.constantFrom(...PROTOTYPE_NAMES)), payloadOf(fc.record({ method, params }, { requiredKeys: [] }))).map(([id, payload]) => ({
        topic: `v1/devices/me/rpc/request/${id}`,
        payload,
      })),
    },
    {
      weight: 4,
      arbitrary: payloadOf(
        fc.record({ device: fc.constantFrom(...HOUSEHOLD.profiles, 'nope', ...PROTOTYPE_NAMES), data: fc.oneof(fc.record({ id: fc.oneof(fc.nat(), hostileValue), method, params }, { requiredKeys: [] }), hostileValue) }, { requiredKeys: [] }),
      ).map((payload) => ({ topic: 'v1/gateway/rpc', payload })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('v1/gateway/attributes', 'v1/gateway/attributes/response', 'v1/devices/me/attributes'),
          payloadOf(
            fc.record(
              {
                id: fc.oneof(fc.nat(5), hostileValue),
                device: fc.constantFrom(...HOUSEHOLD.profiles, 'nope', ...PROTOTYPE_NAMES),
                data: fc.dictionary(fc.constantFrom('v_tea', 'v_coffee', 'v___proto__', 'v_constructor', 'v_nope', ...PROTOTYPE_NAMES), fc.oneof(fc.double({ min: -10, max: 110 }), hostileValue), { maxKeys: 3 }),
                values: fc.dictionary(fc.constantFrom('v_tea', 'v_toString', ...PROTOTYPE_NAMES), fc.oneof(fc.double({ min: -10, max: 110 }), hostileValue), { maxKeys: 3 }),
                value: hostileValue,
              },
              { requiredKeys: [] },
            ),
          ),
        )
        .map(([topic, payload]) => ({ topic, payload })),
    },
  ).map((c) => ({ ...c, profile: 'thingsboard' as const }));
  return fc.oneof(generic, tb);
}

/** The ledger's invariants (docs/consent.md): verified chain, time order, no future entries, no upstream special grants. */
const PROFILES: Record<DownlinkCase['profile'], SyncProfile> = {
  generic: new GenericProfile('edge', GATEWAY),
  thingsboard: new ThingsboardProfile(HOUSEHOLD.profiles, ['tea']),
};
/** Every this many messages, one is a replay of an accepted message (same payload, later), as a captured one. */
const REPLAY_EVERY = 50;

/** Samples `n` downlink cases; every REPLAY_EVERY-th comes from `replays` (accepted messages seen so far). */
function sampleDownlinks(seed: number, n: number, replays: readonly DownlinkCase[]): DownlinkCase[] {
  const cases = fc.sample(downlinkCases(Date.now()), { seed, numRuns: n });
  return cases.map((c, i) => (i % REPLAY_EVERY === REPLAY_EVERY - 1 && replays.length > 0 ? replays[(seed + i) % replays.length]! : c));
}

/** Downlink messages handed to a DownlinkHandler of the agent's own services directly (fast, both profiles). */
async function runDownlinkDirect(
  agent: Agent,
  budget: FuzzBudget,
  observer: DownlinkObserver,
  report: FuzzReport,
  replays: DownlinkCase[],
  progress: (line: string) => void,
  stop?: AbortSignal,
): Promise<void> {
  const store = new CampaignStore(agent.database);
  const handler = new DownlinkHandler({
    config: agent.config,
    consent: agent.consent,
    engagement: agent.engagement,
    saveCampaign: (c) => store.save(c),
    outcomes: agent.outcomes,
    clock: Date.now,
  });
  const chunk = 5000;
  for (let done = 0; done < budget.downlink && !stop?.aborted; ) {
    const n = Math.min(chunk, budget.downlink - done);
    for (const c of sampleDownlinks(budget.seed + done, n, replays)) {
      const accepted = handler.accepted;
      observer.observe(handler, c.topic, c.payload, () => handler.serve(PROFILES[c.profile], c.topic, c.payload));
      if (handler.accepted > accepted && replays.length < 500) replays.push(c);
    }
    done += n;
    if (done % 100_000 < chunk) {
      report.invariantViolations.push(...ledgerProblems(agent, Date.now()));
      progress(`fuzz: ${done} downlink messages fed directly`);
    }
    await new Promise((r) => setImmediate(r)); // group commits and timers run between chunks
  }
}

/**
 * Downlink messages published to a real Mosquitto broker, each to the agent subscribed for its profile, which
 * receives it through its own MQTT client and upstream handler, exactly as from a platform.
 */
async function runDownlinkBroker(
  agents: Record<DownlinkCase['profile'], Agent>,
  broker: string,
  budget: FuzzBudget,
  observer: DownlinkObserver,
  report: FuzzReport,
  replays: DownlinkCase[],
  progress: (line: string) => void,
  stop?: AbortSignal,
): Promise<void> {
  // v1/devices/me/attributes is the firmware uplink's (agent/firmware-update): it never reaches the downlink handler
  const subscriptions = [...PROFILES.generic.subscriptions(), ...PROFILES.thingsboard.subscriptions()].filter((t) => t !== 'v1/devices/me/attributes');
  const feed = new BrokerFeed(broker, subscriptions);
  observer.watchServe(DownlinkHandler, (topic, payload) => feed.onServed(topic, payload));
  await feed.connect();
  try {
    const chunk = 4000;
    let sent = 0;
    for (let round = 0; sent < budget.brokerDownlink && !stop?.aborted; round++) {
      const cases = sampleDownlinks(budget.seed + 1_000_003 + round * chunk, chunk, replays).filter((c) => feed.delivers(c.topic));
      const batch = cases.slice(0, budget.brokerDownlink - sent);
      report.downlink.lost += await feed.send(batch);
      report.downlink.viaBroker = feed.served;
      for (const c of batch) if (replays.length < 500 && c.payload.length < 2000) replays.push(c);
      sent += batch.length;
      if (sent % 100_000 < chunk) {
        for (const a of Object.values(agents)) report.invariantViolations.push(...ledgerProblems(a, Date.now()));
        progress(`fuzz: ${sent} downlink messages through the broker`);
      }
    }
  } finally {
    await feed.close();
  }
}

/**
 * Runs the campaign; `progress` gets a line now and then. Phases run shortest first (device inputs, API, direct
 * downlinks, downlinks through the broker); once `stop` is aborted each phase ends at its next chunk and the
 * report holds what was done, so a long run cut short still reports its figures.
 */
export async function runFuzzCampaign(budget: FuzzBudget, progress: (line: string) => void = () => undefined, stop?: AbortSignal): Promise<FuzzReport> {
  const report: FuzzReport = {
    seed: budget.seed,
    frames: { inputs: 0, frames: 0, badFrames: 0, acked: 0, hellosAnswered: 0, crashes: 0, stateChangesOnReject: 0, perSecond: 0 },
    downlink: { messages: 0, viaBroker: 0, lost: 0, accepted: 0, rejected: 0, crashes: 0, stateChangesOnReject: 0, perSecond: 0 },
    api: { requests: 0, byStatus: {}, crashes: 0, stateChangesWithoutCredentials: 0, perSecond: 0 },
    invariantViolations: [],
    fileReadsOutsideDataDir: [],
    crashDetails: [],
    interrupted: false,
    ms: 0,
  };
  if (budget.brokerDownlink > 0 && !hasMosquitto) throw new Error('fuzz: the broker phase needs mosquitto (apt-get install mosquitto; .ci/run does it)');
  const t = scratchDir();
  const dataDir = path.join(t.dir, 'data');
  const tbDataDir = path.join(t.dir, 'data-thingsboard');
  const mosquitto = budget.brokerDownlink > 0 ? new Mosquitto(await freePort()) : null;
  const onFault = (err: unknown): void => {
    report.downlink.crashes++;
    report.crashDetails.push(`escaped to the process: ${String(err)}`);
  };
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  const started = Date.now();
  const agents: Agent[] = [];
  let files: ReturnType<typeof watchFiles> | null = null;
  const observer = new DownlinkObserver(report.downlink, report.crashDetails);
  try {
    await mosquitto?.start();
    const broker = mosquitto?.url ?? NO_BROKER;
    const agent = new Agent(config(dataDir, broker, 'generic'), { logger: silentLogger, drivers: [] });
    agents.push(agent);
    await agent.start();
    if (agent.apiAddress === null) throw new Error(`fuzz: the agent's API did not start: ${JSON.stringify(agent.status().parts.filter((p) => p.error))}`);
    // the ThingsBoard-profile agent only runs to receive its downlinks through the broker
    const tbAgent = mosquitto ? new Agent(config(tbDataDir, broker, 'thingsboard'), { logger: silentLogger, drivers: [], api: false }) : null;
    if (tbAgent) {
      agents.push(tbAgent);
      await tbAgent.start();
      for (const a of agents) await waitUntil(`the ${a.config.upstream?.profile ?? ''} agent to connect to the broker`, () => a.status().upstream?.connected === true, 30_000);
    }
    files = watchFiles([dataDir, tbDataDir]);
    for (const a of agents) observer.watchAgent(a);
    progress(
      `fuzz: seed ${budget.seed}: ${budget.frames} device inputs, ${budget.downlink} downlink messages direct and ${budget.brokerDownlink} through Mosquitto, ` +
        `${budget.api} API/panel requests (${budget.concurrency} at a time)`,
    );
    const summary = (): string =>
      `crashes ${report.frames.crashes + report.downlink.crashes + report.api.crashes}, state changes from rejected input ` +
      `${report.frames.stateChangesOnReject + report.downlink.stateChangesOnReject + report.api.stateChangesWithoutCredentials}, ` +
      `lost ${report.downlink.lost}, invariant violations ${report.invariantViolations.length}, files outside ${files?.outside.size ?? 0}`;
    await runFrames(agent, budget.frames, budget.seed, report.frames, report.crashDetails, stop);
    progress(`fuzz: device inputs done: ${report.frames.inputs}, ${report.frames.perSecond}/s; ${summary()}`);
    await runApi(agent, dataDir, budget, report, stop);
    progress(`fuzz: API done: ${report.api.requests} requests, ${report.api.perSecond}/s; ${summary()}`);
    const replays: DownlinkCase[] = [];
    const downlinkStarted = Date.now();
    const downlinkProgress = (line: string): void => progress(`${line}; ${summary()}`);
    await runDownlinkDirect(agent, budget, observer, report, replays, downlinkProgress, stop);
    if (tbAgent) await runDownlinkBroker({ generic: agent, thingsboard: tbAgent }, broker, budget, observer, report, replays, downlinkProgress, stop);
    report.downlink.perSecond = Math.round(report.downlink.messages / Math.max(0.001, (Date.now() - downlinkStarted) / 1000));
    progress(`fuzz: downlink done: ${report.downlink.messages} messages (${report.downlink.viaBroker} through the broker), ${report.downlink.perSecond}/s`);
    for (const a of agents) report.invariantViolations.push(...ledgerProblems(a, Date.now()));
    report.interrupted = stop?.aborted === true;
  } finally {
    observer.restore();
    files?.restore();
    report.fileReadsOutsideDataDir = [...(files?.outside ?? [])];
    for (const a of agents.reverse()) await a.stop();
    await mosquitto?.dispose();
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
    t.cleanup();
  }
  report.ms = Date.now() - started;
  return report;
}
