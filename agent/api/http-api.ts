import { HttpListener, closeWithoutReading, limitedServer } from './http-listener';
import type * as http from 'node:http';
import { HostAllowList } from './panel/request-guard';
import type { StatusDocument } from './status';
import { renderMetrics } from './metrics';
import { tokenMatches } from './api-token';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ApiRoutes {
  status(): StatusDocument;
  consent(): unknown;
  consentLedger(): unknown;
  /** POST /api/consent: { device, category } | { profile, campaign } | { profile, channel } plus granted, erase? */
  consentChange(body: unknown): ApiResponse;
  /** POST /api/devices/<id>/command: { command, ...args }; answers once the device acked (or did not). */
  deviceCommand(device: string, body: unknown): Promise<ApiResponse>;
  /** GET /api/sync: link and outbox; POST /api/sync/flush { timeoutMs? }: drain now */
  sync(): unknown;
  syncFlush(body: unknown): Promise<ApiResponse>;
  /** POST /api/reload: re-read the config file (devices paired or unpaired); refused while the file is invalid */
  reload(): ApiResponse;
}

const MAX_BODY = 64 * 1024;

/** The household panel (agent/api/panel): it owns /panel/… and does its own authentication (session + CSRF). */
export interface PanelHandler {
  handles(pathname: string): boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

export interface HttpApiOptions {
  listen: string;
  token: string;
  panel?: PanelHandler;
  /** names besides IP literals, localhost and this machine's name that the Host header may carry (api.panel.allowedHosts) */
  allowedHosts?: readonly string[];
}

export { parseListen } from './http-listener';

/**
 * The local HTTP API (DESIGN §9): loopback by default; reads are open to local processes,
 * mutations require the bearer token from <dataDir>/api-token.
 */
export class HttpApi {
  private readonly listener: HttpListener;
  private readonly hosts: HostAllowList;

  constructor(
    private readonly opts: HttpApiOptions,
    private readonly routes: ApiRoutes,
  ) {
    this.listener = new HttpListener('api.listen', opts.listen, ' — is another edge-agent running? Stop it or set api.listen');
    this.hosts = new HostAllowList(opts.allowedHosts ?? []);
  }

  async start(): Promise<void> {
    const server = limitedServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    await this.listener.start(server);
  }

  address(): string | null {
    return this.listener.address();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A request target like `//` or `http://[` makes `new URL` throw; outside a try that took the agent down.
    const parsed = requestUrl(req);
    if (parsed === null) {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ error: `malformed request target ${JSON.stringify((req.url ?? '').slice(0, 100))}` }) + '\n');
    }
    const panel = this.opts.panel;
    if (panel) {
      const p = parsed.pathname;
      if (panel.handles(p)) return void panel.handle(req, res);
      if (p === '/' && req.method === 'GET') {
        res.writeHead(302, { location: '/panel/' });
        return void res.end();
      }
    }
    // DNS rebinding (issue #21): a page on evil.example re-pointed at the gateway still sends its own name.
    if (!this.hosts.allows(req.headers.host)) {
      return refuse(res, 403, `unknown Host "${String(req.headers.host ?? '').slice(0, 100)}": use the gateway's address, localhost or a name in api.panel.allowedHosts`);
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      // Refused before a byte of the body is read: no token, or a declared size over the limit.
      if (!tokenMatches(this.opts.token, req.headers.authorization)) return refuse(res, 401, 'missing or wrong bearer token (see <dataDir>/api-token)');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY) return refuse(res, 413, `body larger than ${MAX_BODY} bytes`);
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
        else if (!res.headersSent) refuse(res, 413, `body larger than ${MAX_BODY} bytes`); // chunked: stop at the limit
      });
      req.on('end', () => {
        if (size <= MAX_BODY) void this.route(req, res, parsed, Buffer.concat(chunks).toString('utf8'));
      });
      return;
    }
    void this.route(req, res, parsed, '');
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, rawBody: string): Promise<void> {
    const send = (code: number, body: unknown, type = 'application/json'): void => {
      const text = type === 'application/json' ? JSON.stringify(body, null, 2) + '\n' : String(body);
      res.writeHead(code, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      res.end(text);
    };
    try {
      if (req.method !== 'GET' && !tokenMatches(this.opts.token, req.headers.authorization)) {
        return send(401, { error: 'missing or wrong bearer token (see <dataDir>/api-token)' });
      }
      if (req.method === 'GET' && url.pathname === '/api/status') return send(200, this.routes.status());
      if (req.method === 'GET' && url.pathname === '/api/consent') return send(200, this.routes.consent());
      if (req.method === 'GET' && url.pathname === '/api/consent/ledger') return send(200, this.routes.consentLedger());
      const parseBody = (): { ok: true; body: unknown } | { ok: false } => {
        try {
          return { ok: true, body: JSON.parse(rawBody) as unknown };
        } catch {
          send(400, { error: 'body is not JSON' });
          return { ok: false };
        }
      };
      if (req.method === 'POST' && url.pathname === '/api/consent') {
        const b = parseBody();
        if (!b.ok) return;
        const r = this.routes.consentChange(b.body);
        return send(r.status, r.body);
      }
      if (req.method === 'GET' && url.pathname === '/api/sync') return send(200, this.routes.sync());
      if (req.method === 'POST' && url.pathname === '/api/sync/flush') {
        const b = parseBody();
        if (!b.ok) return;
        const r = await this.routes.syncFlush(b.body);
        return send(r.status, r.body);
      }
      if (req.method === 'POST' && url.pathname === '/api/reload') {
        const r = this.routes.reload();
        return send(r.status, r.body);
      }
      const command = /^\/api\/devices\/([^/]+)\/command$/.exec(url.pathname);
      if (req.method === 'POST' && command) {
        const b = parseBody();
        if (!b.ok) return;
        let device: string;
        try {
          device = decodeURIComponent(command[1]!);
        } catch {
          return send(400, { error: 'device id in the path is not valid percent-encoding' });
        }
        const r = await this.routes.deviceCommand(device, b.body);
        return send(r.status, r.body);
      }
      if (req.method === 'GET' && url.pathname === '/metrics') {
        return send(200, renderMetrics(this.routes.status()), 'text/plain; version=0.0.4');
      }
      if (req.method === 'GET' && url.pathname === '/healthz') return send(200, { ok: true });
      return send(404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      return send(500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Answers and closes the connection without reading the request body (a 500 MB upload is never read). */
function refuse(res: http.ServerResponse, status: number, error: string): void {
  closeWithoutReading(res.req, res);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error }) + '\n');
}

/** The request target as a URL, or null when it cannot be parsed (answered with 400, never thrown). */
function requestUrl(req: http.IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}
