import type * as http from 'node:http';
import type { AgentConfig } from '../../config/types';
import type { ConsentLedger } from '../../consent/consent-ledger';
import { receiptOf } from '../../consent/consent-receipt';
import { WILDCARD } from '../../consent/consent-rules';
import type { EventBus } from '../../event-bus';
import { deviceUpdateView, parseHouseholdRequest } from '../../firmware-update/device-update-view';
import type { FirmwareUpdates } from '../../firmware-update/firmware-updates';
import type { ApiResponse } from '../http-api';
import { closeWithoutReading } from '../http-listener';
import { LoginThrottle } from './login-throttle';
import { loadPanelAssets, type PanelAsset } from './panel-assets';
import { PanelEvents } from './panel-events';
import { PanelSessions, clearedSessionCookie, csrfMatches, sessionCookie, type PanelSession } from './panel-sessions';
import { panelState, type PanelDeviceFacts } from './panel-view';
import { pairingCodeMatches, readPairingCode } from './pairing-code';
import { HostAllowList, checkMutationOrigin } from './request-guard';

export interface HouseholdPanelDeps {
  config: AgentConfig;
  ledger: ConsentLedger;
  /** the change path of POST /api/consent (and so of the CLI): target checked against the config, then ConsentService */
  consentChange: (body: unknown) => ApiResponse;
  devices: () => ReadonlyMap<string, PanelDeviceFacts>;
  bus: EventBus;
  clock: () => number;
  assets?: Map<string, PanelAsset>;
  /** the gateway's firmware updates (files in the data directory, shared with the agent's rollout and the CLI) */
  firmware?: FirmwareUpdates;
}

/** Panel request bodies are one small JSON object; anything bigger is refused before it is buffered. */
const MAX_BODY = 4096;

/** Sent with every panel response: no inline script, no framing (clickjacking), no referrer leaks. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Body = { ok: true; value: unknown } | { ok: false; reply: Reply };

/**
 * The household privacy panel (docs/panel.md): the page, its files and its JSON API under /panel/. Every
 * route checks the Host (DNS rebinding); everything but the page, its files and the login needs a session
 * (cookie from the pairing code); every change also needs the session's CSRF token and the page's own Origin,
 * and goes through the same consent path as the CLI.
 */
export class HouseholdPanel {
  readonly events: PanelEvents;
  private readonly sessions: PanelSessions;
  private readonly throttle: LoginThrottle;
  private readonly hosts: HostAllowList;
  private readonly assets: Map<string, PanelAsset>;
  private readonly sessionS: number;
  private firmwareFiles: FirmwareUpdates | null = null;

  constructor(private readonly deps: HouseholdPanelDeps) {
    const panel = deps.config.api.panel;
    this.sessionS = Math.round(panel.sessionHours * 3600);
    this.sessions = new PanelSessions(deps.clock, this.sessionS * 1000);
    this.throttle = new LoginThrottle(deps.clock);
    this.hosts = new HostAllowList(panel.allowedHosts);
    this.assets = deps.assets ?? loadPanelAssets();
    this.events = new PanelEvents(deps.bus);
  }

  start(): void {
    this.events.start();
  }

  stop(): void {
    this.events.stop();
  }

  handles(pathname: string): boolean {
    return pathname === '/panel' || pathname.startsWith('/panel/');
  }

  /** Answers one request whose path `handles()` accepted. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req, res);
    } catch (err) {
      reply = { status: 500, body: { error: err instanceof Error ? err.message : String(err) } };
    }
    if (res.headersSent) return; // an event stream took over the response
    if (unread.has(req)) closeWithoutReading(req, res);
    const isAsset = Buffer.isBuffer(reply.body);
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'cache-control': 'no-store', ...reply.headers };
    if (!isAsset && headers['content-type'] === undefined) headers['content-type'] = 'application/json; charset=utf-8';
    res.writeHead(reply.status, headers);
    res.end(isAsset ? reply.body : JSON.stringify(reply.body, null, 2) + '\n');
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<Reply> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    if (!this.hosts.allows(req.headers.host)) {
      drain(req);
      return { status: 403, body: { error: `unknown Host "${req.headers.host ?? ''}": open the panel by the gateway's address or a name in api.panel.allowedHosts` } };
    }
    const only = (allowed: string): Reply | null => {
      if (method === allowed || (allowed === 'GET' && method === 'HEAD')) return null;
      drain(req);
      return { status: 405, body: { error: `${method} is not allowed on ${p}; use ${allowed}` }, headers: { allow: allowed } };
    };

    if (p === '/panel') return only('GET') ?? { status: 308, body: { location: '/panel/' }, headers: { location: '/panel/' } };
    if (!p.startsWith('/panel/api/')) {
      const wrong = only('GET');
      if (wrong) return wrong;
      const name = p === '/panel/' ? 'index.html' : p.slice('/panel/'.length);
      const asset = this.assets.get(name);
      if (!asset) return { status: 404, body: { error: `no panel file ${p}` } };
      return { status: 200, body: asset.body, headers: { 'content-type': asset.type, 'cache-control': 'no-cache' } };
    }

    const route = p.slice('/panel/api'.length);
    const session = this.sessions.fromCookie(req.headers.cookie);

    if (route === '/session') {
      return only('GET') ?? { status: 200, body: session ? { signedIn: true, csrf: session.csrf, gateway: this.deps.config.gateway.id } : { signedIn: false, gateway: this.deps.config.gateway.id } };
    }
    if (route === '/login') return only('POST') ?? (await this.login(req));

    // Everything below is the household's data: a session is required.
    if (!session) {
      drain(req);
      return { status: 401, body: { error: 'not signed in: enter the pairing code (shown by `edge-agent panel` on the gateway)' } };
    }
    if (route === '/state') {
      const wrong = only('GET');
      if (wrong) return wrong;
      const fw = this.firmware.status();
      const now = this.deps.clock();
      return { status: 200, body: panelState(this.deps.config, this.deps.ledger.rules, this.deps.devices(), (id) => deviceUpdateView(fw, id, now)) };
    }
    if (route === '/history') return only('GET') ?? { status: 200, body: this.history() };
    if (route === '/events') {
      const wrong = only('GET');
      if (wrong) return wrong;
      const cookie = req.headers.cookie;
      if (this.events.open(req, res, SECURITY_HEADERS, session, () => this.sessions.fromCookie(cookie) !== undefined)) return { status: 200, body: null };
      return { status: 503, body: { error: 'too many open panels (at most 4 per sign-in, 32 in all); close a tab and reload' }, headers: { 'retry-after': '5' } };
    }
    if (route === '/receipts.json') return only('GET') ?? this.download('all', this.history());
    const receipt = /^\/receipts\/([0-9]{1,12})\.json$/.exec(route);
    if (receipt) {
      const wrong = only('GET');
      if (wrong) return wrong;
      const seq = Number(receipt[1]);
      const entry = this.deps.ledger.entries().find((e) => e.seq === seq);
      if (!entry) return { status: 404, body: { error: `no ledger entry #${seq}` } };
      return this.download(String(seq), receiptOf(entry, this.deps.config.gateway.id));
    }

    const erase = /^\/devices\/([^/]+)\/erase$/.exec(route);
    const firmware = /^\/devices\/([^/]+)\/firmware$/.exec(route);
    if (route === '/consent' || route === '/logout' || erase || firmware) {
      const wrong = only('POST') ?? this.checkMutation(req, session);
      if (wrong) {
        drain(req);
        return wrong;
      }
      const body = await readJsonBody(req);
      if (!body.ok) return body.reply;
      if (route === '/logout') {
        this.sessions.end(req.headers.cookie);
        return { status: 200, body: { signedIn: false }, headers: { 'set-cookie': clearedSessionCookie() } };
      }
      if (route === '/consent') return this.change(body.value);
      let device: string;
      try {
        device = decodeURIComponent((erase ?? firmware)![1]!);
      } catch {
        return { status: 400, body: { error: 'the device id in the path is not valid percent-encoding' } };
      }
      return erase ? this.eraseDevice(device) : this.householdFirmwareChoice(device, body.value);
    }
    drain(req);
    return { status: 404, body: { error: `no panel route ${method} ${p}` } };
  }

  private checkMutation(req: http.IncomingMessage, session: PanelSession): Reply | null {
    const origin = checkMutationOrigin({
      host: req.headers.host,
      origin: req.headers.origin,
      'sec-fetch-site': header(req, 'sec-fetch-site'),
    });
    if (!origin.ok) return { status: 403, body: { error: origin.reason } };
    if (!csrfMatches(session, req.headers['x-csrf-token'])) {
      return { status: 403, body: { error: 'missing or wrong X-CSRF-Token: reload the panel' } };
    }
    return null;
  }

  private async login(req: http.IncomingMessage): Promise<Reply> {
    // Login is guarded like a change (Origin), so another site cannot sign a browser in to its own session.
    const origin = checkMutationOrigin({ host: req.headers.host, origin: req.headers.origin, 'sec-fetch-site': header(req, 'sec-fetch-site') });
    if (!origin.ok) {
      drain(req);
      return { status: 403, body: { error: origin.reason } };
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    const attempt = this.throttle.take(address); // taken before the body is read: concurrent bodies cannot share a slot
    if (!attempt.granted) {
      drain(req);
      const s = Math.ceil(attempt.retryAfterMs / 1000);
      return { status: 429, body: { error: `too many sign-in attempts: try again in ${s} s` }, headers: { 'retry-after': String(s) } };
    }
    const body = await readJsonBody(req);
    if (!body.ok) return body.reply;
    const typed = (body.value as { code?: unknown } | null)?.code;
    if (typeof typed !== 'string' || typed.length > 32) return { status: 400, body: { error: '"code" must be the pairing code, e.g. "1234-5678"' } };
    const expected = readPairingCode(this.deps.config.gateway.dataDir);
    if (expected === undefined || !pairingCodeMatches(expected, typed)) {
      return { status: 403, body: { error: 'wrong pairing code: run `edge-agent panel` on the gateway to see it' } };
    }
    attempt.giveBack(); // the right code: not a guess
    const { id, session } = this.sessions.create();
    return {
      status: 200,
      body: { signedIn: true, csrf: session.csrf, gateway: this.deps.config.gateway.id, expiresAt: new Date(session.expiresAt).toISOString() },
      headers: { 'set-cookie': sessionCookie(id, this.sessionS) },
    };
  }

  private history(): unknown {
    return {
      verify: this.deps.ledger.verify(),
      receipts: this.deps.ledger
        .entries()
        .map((e) => receiptOf(e, this.deps.config.gateway.id))
        .reverse(),
    };
  }

  private download(what: string, doc: unknown): Reply {
    const name = `consent-receipt-${this.deps.config.gateway.id}-${what}.json`.replace(/[^A-Za-z0-9._-]/g, '_');
    return { status: 200, body: doc, headers: { 'content-disposition': `attachment; filename="${name}"` } };
  }

  /** One switch: exactly one consent key and the new state; the source is always "panel". */
  private change(raw: unknown): Reply {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { status: 400, body: { error: 'body must be a JSON object' } };
    const allowed = new Set(['device', 'category', 'profile', 'campaign', 'channel', 'granted']);
    const extra = Object.keys(raw).filter((k) => !allowed.has(k));
    if (extra.length > 0) return { status: 400, body: { error: `unexpected field(s): ${extra.join(', ')}` } };
    const b = raw as Record<string, unknown>;
    if (b.category === WILDCARD) return { status: 400, body: { error: 'the panel changes one category at a time' } };
    return this.deps.consentChange({ ...b, source: 'panel' });
  }

  private get firmware(): FirmwareUpdates {
    // loaded with the first firmware request: most starts never see one (issue #24, cold start)
    this.firmwareFiles ??=
      this.deps.firmware ??
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      new (require('../../firmware-update/firmware-updates') as typeof import('../../firmware-update/firmware-updates')).FirmwareUpdates(this.deps.config.gateway.dataDir);
    return this.firmwareFiles;
  }

  /**
   * The household's say on a firmware update of one device (docs/firmware-updates.md §5): not now (deferred for
   * some hours), never ("do not update": skipped and reported upstream), or allowed again. The same files as
   * `edge-agent firmware defer`; the agent's rollout reads them before every step.
   */
  private householdFirmwareChoice(device: string, raw: unknown): Reply {
    if (!this.deps.config.devices.some((d) => d.id === device)) return { status: 404, body: { error: `no device "${device}"` } };
    let request;
    try {
      request = parseHouseholdRequest(raw, this.deps.clock());
    } catch (err) {
      return { status: 400, body: { error: err instanceof Error ? err.message : String(err) } };
    }
    const choice = this.firmware.defer(device, request);
    return {
      status: 200,
      body: { device, doNotUpdate: choice.doNotUpdate, deferredUntil: choice.deferredUntil === null ? null : new Date(choice.deferredUntil).toISOString() },
    };
  }

  /**
   * "Erase my data" for one device: withdraws everything it may collect and erases what it stored, through the
   * consent revoke-with-erase path (the wildcard first, which erases every category's raw rows, then each
   * category still granted by name, special ones included), one ledger entry each.
   */
  private eraseDevice(device: string): Reply {
    if (!this.deps.config.devices.some((d) => d.id === device)) return { status: 404, body: { error: `no device "${device}"` } };
    const rules = this.deps.ledger.rules;
    const named = rules
      .entries()
      .filter((e) => e.scope === 'device' && e.subject === device && e.target !== WILDCARD && e.granted)
      .map((e) => e.target);
    const purged = { outbox: 0, engagement: 0, raw: 0 };
    const entries: number[] = [];
    for (const category of [WILDCARD, ...named]) {
      const r = this.deps.consentChange({ device, category, granted: false, erase: true, source: 'panel' });
      if (r.status !== 200) return r;
      const b = r.body as { entry: { seq: number } | null; purged: typeof purged };
      if (b.entry) entries.push(b.entry.seq);
      purged.outbox += b.purged.outbox;
      purged.engagement += b.purged.engagement;
      purged.raw += b.purged.raw;
    }
    return { status: 200, body: { device, withdrawn: [WILDCARD, ...named], entries, purged } };
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** Requests refused before their body was read: answered with `Connection: close` (see closeWithoutReading). */
const unread = new WeakSet<http.IncomingMessage>();

/** A body nobody will read: it is not read at all (a 500 MB upload before a 401 costs nothing). */
function drain(req: http.IncomingMessage): void {
  unread.add(req);
}

function readJsonBody(req: http.IncomingMessage): Promise<Body> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    drain(req);
    // Also what makes a plain HTML form (which cannot send JSON) useless for cross-site posts.
    return Promise.resolve({ ok: false, reply: { status: 415, body: { error: 'send Content-Type: application/json' } } });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY) {
        done = true;
        unread.add(req); // the rest is not read: the answer closes the connection
        req.pause();
        resolve({ ok: false, reply: { status: 413, body: { error: `body larger than ${MAX_BODY} bytes` } } });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch {
        resolve({ ok: false, reply: { status: 400, body: { error: 'body is not JSON' } } });
      }
    });
    req.on('error', () => {
      if (!done) resolve({ ok: false, reply: { status: 400, body: { error: 'request body could not be read' } } });
      done = true;
    });
  });
}
