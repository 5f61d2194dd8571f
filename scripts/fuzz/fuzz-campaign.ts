import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildConfig, type AgentConfig } from '../../agent/config';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { SPECIAL_CATEGORIES, WILDCARD } from '../../agent/consent/consent-rules';
import { CampaignStore } from '../../agent/store/campaign-store';
import { DownlinkHandler } from '../../agent/sync/downlink-handler';
import { GenericProfile } from '../../agent/sync/generic-profile';
import type { SyncProfile } from '../../agent/sync/sync-profile';
import { ThingsboardProfile } from '../../agent/sync/thingsboard-profile';
import { HOUSEHOLD_SECTIONS } from '../../test/sync/household';
import { PROTOTYPE_NAMES, deepJson, downlinkBodies, hostileValue, payloadOf, type Household } from './hostile-inputs';

/**
 * The fuzz campaign of issue #21: hostile downlink messages for both profiles and hostile HTTP requests (many at
 * once) against one real agent (real SQLite file, real HTTP listener with the household panel). It counts:
 * - crashes: the downlink path throwing, a reply that is not JSON or is unbounded, an HTTP 5xx or a dropped
 *   connection, anything reaching the process's last-resort events;
 * - state changes from rejected messages: any mutating call (consent applied, V set, campaign saved, conversion
 *   recorded) made while handling a message that was answered with an error, and any change of the consent
 *   ledger caused by HTTP requests that carry no valid credentials;
 * - file reads outside the data directory: every fs call that opens, reads, lists or probes a path, wrapped
 *   for the campaign's duration.
 * Invariants checked along the way: the ledger verifies, stays in time order, never dated ahead, and never holds
 * an upstream grant of a special category or "*".
 */

export interface FuzzBudget {
  downlink: number;
  api: number;
  concurrency: number;
  seed: number;
}

export interface FuzzReport {
  seed: number;
  downlink: { messages: number; accepted: number; rejected: number; crashes: number; stateChangesOnReject: number; perSecond: number };
  api: { requests: number; byStatus: Record<string, number>; crashes: number; stateChangesWithoutCredentials: number; perSecond: number };
  invariantViolations: string[];
  fileReadsOutsideDataDir: string[];
  crashDetails: string[];
  ms: number;
}

const GATEWAY = 'gw-fuzz';
const HOUSEHOLD: Household = { devices: ['scale-a', 'scale-b'], profiles: ['home-a', 'home-b'], campaigns: ['coffee', 'tea'] };

function config(dataDir: string): AgentConfig {
  return buildConfig({
    gateway: { id: GATEWAY, dataDir },
    api: { listen: '127.0.0.1:0', panel: { enabled: true } },
    // never reachable: the campaign feeds the downlink path directly, and the uplink stays quiet
    upstream: { url: 'mqtt://127.0.0.1:1', reconnect: { minMs: 60_000, maxMs: 60_000 } },
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

/** Wraps the fs calls that touch a path; returns the paths touched outside `dir` and the unwrapper. */
function watchFiles(dir: string): { outside: Set<string>; restore: () => void } {
  const outside = new Set<string>();
  const root = path.resolve(dir) + path.sep;
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
        if (!(abs + path.sep).startsWith(root)) outside.add(`${name} ${abs}`);
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
  profile: 'generic' | 'thingsboard';
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
function ledgerProblems(agent: Agent, now: number): string[] {
  const out: string[] = [];
  const v = agent.ledger.verify();
  if (!v.ok) out.push(`ledger does not verify: ${v.reason ?? ''}`);
  const rows = agent.database.prepare('SELECT seq, at, target, granted, source FROM consent_ledger ORDER BY seq').all() as Array<{ seq: number; at: number; target: string; granted: number; source: string }>;
  for (let i = 1; i < rows.length; i++) if (rows[i]!.at < rows[i - 1]!.at) out.push(`ledger entry ${rows[i]!.seq} dated before entry ${rows[i - 1]!.seq}`);
  for (const r of rows) {
    if (r.at > now + 1000) out.push(`ledger entry ${r.seq} dated in the future`);
    if (r.source === 'upstream' && r.granted === 1 && (r.target === WILDCARD || SPECIAL_CATEGORIES.has(r.target))) out.push(`upstream granted ${r.target} (entry ${r.seq})`);
  }
  return out;
}

async function runDownlink(agent: Agent, budget: FuzzBudget, report: FuzzReport): Promise<void> {
  const profiles: Record<DownlinkCase['profile'], SyncProfile> = {
    generic: new GenericProfile('edge', GATEWAY),
    thingsboard: new ThingsboardProfile(HOUSEHOLD.profiles, ['tea']),
  };
  const store = new CampaignStore(agent.database);
  let mutations = 0;
  const handler = new DownlinkHandler({
    config: agent.config,
    consent: {
      fromUpstream: (req, now) => {
        const r = agent.consent.fromUpstream(req, now);
        if (r.applied) mutations++;
        return r;
      },
    },
    engagement: {
      setValue: (p, c, v) => {
        mutations++;
        agent.engagement.setValue(p, c, v);
      },
      clearValue: (p, c) => {
        mutations++;
        agent.engagement.clearValue(p, c);
      },
      upsertCampaign: (c) => {
        mutations++;
        return agent.engagement.upsertCampaign(c);
      },
      campaign: (id) => agent.engagement.campaign(id),
    },
    saveCampaign: (c) => {
      mutations++;
      store.save(c);
    },
    outcomes: {
      reportConversion: (t, at, p) => {
        const r = agent.outcomes.reportConversion(t, at, p); // refuses an unknown trigger by throwing: no change
        mutations++;
        return r;
      },
    },
    clock: Date.now,
  });
  const started = Date.now();
  const chunk = 5000;
  // replays: accepted messages come back later (same payload), as a captured message would
  const replayPool: DownlinkCase[] = [];
  for (let done = 0; done < budget.downlink; ) {
    const n = Math.min(chunk, budget.downlink - done);
    const cases = fc.sample(downlinkCases(Date.now()), { seed: budget.seed + done, numRuns: n });
    for (let i = 0; i < cases.length; i++) {
      const c = i % 50 === 49 && replayPool.length > 0 ? replayPool[(done + i) % replayPool.length]! : cases[i]!;
      const before = mutations;
      const rejectedBefore = handler.rejected;
      const acceptedBefore = handler.accepted;
      let replies: Array<{ topic: string; payload: string }>;
      try {
        replies = handler.serve(profiles[c.profile], c.topic, c.payload);
      } catch (err) {
        report.downlink.crashes++;
        if (report.crashDetails.length < 20) report.crashDetails.push(`downlink ${c.topic}: ${String(err)}`);
        continue;
      }
      for (const r of replies) {
        if (r.payload.length > 70_000) {
          report.downlink.crashes++;
          if (report.crashDetails.length < 20) report.crashDetails.push(`reply of ${r.payload.length} bytes to ${c.topic}`);
        }
        try {
          JSON.parse(r.payload);
        } catch {
          report.downlink.crashes++;
          if (report.crashDetails.length < 20) report.crashDetails.push(`reply to ${c.topic} is not JSON`);
        }
      }
      const rejected = handler.rejected - rejectedBefore;
      const accepted = handler.accepted - acceptedBefore;
      report.downlink.rejected += rejected;
      report.downlink.accepted += accepted;
      // a message answered only with errors changed nothing
      if (rejected > 0 && accepted === 0 && mutations !== before) {
        report.downlink.stateChangesOnReject++;
        if (report.crashDetails.length < 20) report.crashDetails.push(`state changed by a rejected ${c.topic}: ${c.payload.toString('utf8', 0, 300)} → ${handler.lastError ?? ''}`);
      }
      if (accepted > 0 && replayPool.length < 500) replayPool.push(c);
    }
    done += n;
    report.downlink.messages = done;
    if (done % 50_000 < chunk) report.invariantViolations.push(...ledgerProblems(agent, Date.now()));
    await new Promise((r) => setImmediate(r)); // group commits and timers run between chunks
  }
  report.downlink.perSecond = Math.round(report.downlink.messages / ((Date.now() - started) / 1000));
}

interface ApiCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

function apiCases(port: number, token: string): fc.Arbitrary<ApiCase> {
  const good = `127.0.0.1:${port}`;
  const routes = fc.constantFrom(
    '/api/status', '/api/consent', '/api/consent/ledger', '/api/sync', '/api/sync/flush', '/api/reload', '/metrics', '/healthz',
    '/api/devices/scale-a/command', '/api/devices/%2e%2e%2f/command', '/api/devices/%ZZ/command',
    '/panel/', '/panel', '/panel/api/session', '/panel/api/login', '/panel/api/state', '/panel/api/history', '/panel/api/consent',
    '/panel/api/logout', '/panel/api/devices/scale-a/erase', '/panel/api/receipts.json', '/panel/api/receipts/1.json', '/panel/../../etc/passwd',
    '/panel/%2e%2e/%2e%2e/etc/passwd', '/panel/panel.js', '/panel/index.html', '//', '/?a=__proto__', '/api/status?x=' + 'a'.repeat(2000),
  );
  const body = fc.oneof(
    fc.constant(null),
    downlinkBodies(HOUSEHOLD, Date.now()).consent.map((b) => Buffer.from(JSON.stringify({ ...b, source: 'panel' }))),
    fc.record({ command: fc.constantFrom('identify', 'notify', 'toString', '__proto__'), text: hostileValue }, { requiredKeys: [] }).map((b) => Buffer.from(JSON.stringify(b))),
    fc.record({ code: fc.oneof(fc.string({ maxLength: 12 }), hostileValue) }).map((b) => Buffer.from(JSON.stringify(b))),
    fc.json().map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 10, max: 5000 }).map((d) => Buffer.from(deepJson(d))),
    fc.constantFrom(...PROTOTYPE_NAMES).map((k) => Buffer.from(`{"${k}":{"granted":true},"granted":true,"device":"scale-a","category":"usage"}`)),
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      path: routes,
      host: fc.constantFrom(good, good, `localhost:${port}`, `evil.example:${port}`, 'evil.example', `${good}.evil.example`),
      auth: fc.constantFrom('none', 'none', 'wrong', 'garbage', 'right'),
      origin: fc.constantFrom('none', 'self', 'evil'),
      cookie: fc.constantFrom('none', 'garbage', 'edge_panel=' + 'A'.repeat(43)),
      contentType: fc.constantFrom('application/json', 'text/plain', 'none', 'application/json; charset=utf-8'),
      body,
    })
    .map((r) => {
      const headers: Record<string, string> = { host: r.host };
      if (r.auth === 'right') headers.authorization = `Bearer ${token}`;
      if (r.auth === 'wrong') headers.authorization = `Bearer ${'0'.repeat(token.length)}`;
      if (r.auth === 'garbage') headers.authorization = 'Basic Zm9vOmJhcg==';
      if (r.origin === 'self') headers.origin = `http://${r.host}`;
      if (r.origin === 'evil') headers.origin = 'http://evil.example';
      if (r.cookie !== 'none') headers.cookie = r.cookie === 'garbage' ? 'edge_panel=garbage; x=__proto__' : r.cookie;
      if (r.contentType !== 'none') headers['content-type'] = r.contentType;
      return { method: r.method, path: r.path, headers, body: r.method === 'GET' || r.method === 'HEAD' ? null : r.body };
    });
}

function send(agent: http.Agent, port: number, c: ApiCase): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: c.method, path: c.path, headers: { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) }, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(-1));
      },
    );
    req.on('error', () => resolve(-1));
    req.setTimeout(30_000, () => req.destroy());
    if (c.body) req.write(c.body);
    req.end();
  });
}

async function runApi(agent: Agent, dataDir: string, budget: FuzzBudget, report: FuzzReport): Promise<void> {
  const port = Number(agent.apiAddress!.split(':').at(-1));
  const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: budget.concurrency });
  const started = Date.now();
  const chunk = 2000;
  for (let done = 0; done < budget.api; ) {
    const n = Math.min(chunk, budget.api - done);
    const cases = fc.sample(apiCases(port, token), { seed: budget.seed + 7 + done, numRuns: n });
    // without credentials first (the ledger must not move), then the rest
    const anonymous = cases.filter((c) => !c.headers.authorization?.endsWith(token));
    const ledgerBefore = agent.ledger.length;
    let next = 0;
    const worker = async (list: ApiCase[]): Promise<void> => {
      while (next < list.length) {
        const c = list[next++]!;
        const status = await send(keepAlive, port, c);
        report.api.byStatus[String(status)] = (report.api.byStatus[String(status)] ?? 0) + 1;
        if (status >= 500 || status === -1) {
          report.api.crashes++;
          if (report.crashDetails.length < 20) report.crashDetails.push(`${c.method} ${c.path} → ${status}`);
        }
      }
    };
    await Promise.all(Array.from({ length: budget.concurrency }, () => worker(anonymous)));
    if (agent.ledger.length !== ledgerBefore) report.api.stateChangesWithoutCredentials++;
    const authorised = cases.filter((c) => c.headers.authorization?.endsWith(token));
    next = 0;
    await Promise.all(Array.from({ length: budget.concurrency }, () => worker(authorised)));
    done += n;
    report.api.requests = done;
  }
  keepAlive.destroy();
  report.api.perSecond = Math.round(report.api.requests / ((Date.now() - started) / 1000));
  report.invariantViolations.push(...ledgerProblems(agent, Date.now()));
}

/** Runs the campaign; `progress` gets a line now and then. */
export async function runFuzzCampaign(budget: FuzzBudget, progress: (line: string) => void = () => undefined): Promise<FuzzReport> {
  const report: FuzzReport = {
    seed: budget.seed,
    downlink: { messages: 0, accepted: 0, rejected: 0, crashes: 0, stateChangesOnReject: 0, perSecond: 0 },
    api: { requests: 0, byStatus: {}, crashes: 0, stateChangesWithoutCredentials: 0, perSecond: 0 },
    invariantViolations: [],
    fileReadsOutsideDataDir: [],
    crashDetails: [],
    ms: 0,
  };
  const t = scratchDir();
  const dataDir = path.join(t.dir, 'data');
  const agent = new Agent(config(dataDir), { logger: silentLogger, drivers: [] });
  const onFault = (err: unknown): void => {
    report.downlink.crashes++;
    report.crashDetails.push(`escaped to the process: ${String(err)}`);
  };
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  const started = Date.now();
  await agent.start();
  let files: ReturnType<typeof watchFiles> | null = null;
  try {
    files = watchFiles(dataDir);
    progress(`fuzz: seed ${budget.seed}, ${budget.downlink} downlink messages, ${budget.api} API/panel requests (${budget.concurrency} at a time)`);
    await runDownlink(agent, budget, report);
    progress(`fuzz: downlink done: ${report.downlink.messages} messages, ${report.downlink.perSecond}/s`);
    await runApi(agent, dataDir, budget, report);
    progress(`fuzz: API done: ${report.api.requests} requests, ${report.api.perSecond}/s`);
  } finally {
    files?.restore();
    report.fileReadsOutsideDataDir = [...(files?.outside ?? [])];
    await agent.stop();
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
    t.cleanup();
  }
  report.ms = Date.now() - started;
  return report;
}
