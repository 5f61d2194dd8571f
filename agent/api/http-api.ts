import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
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
}

const MAX_BODY = 64 * 1024;

export interface HttpApiOptions {
  listen: string;
  token: string;
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) throw new Error(`api.listen "${listen}" must be host:port, e.g. 127.0.0.1:8787`);
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`api.listen "${listen}": bad port`);
  return { host, port };
}

/**
 * The local HTTP API (DESIGN §9): loopback by default; reads are open to local processes,
 * mutations require the bearer token from <dataDir>/api-token.
 */
export class HttpApi {
  private server: http.Server | null = null;

  constructor(
    private readonly opts: HttpApiOptions,
    private readonly routes: ApiRoutes,
  ) {}

  async start(): Promise<void> {
    const { host, port } = parseListen(this.opts.listen);
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `api.listen ${this.opts.listen} is in use — is another edge-agent running? Stop it or set api.listen`
              : `api.listen ${this.opts.listen}: ${err.message}`,
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    this.server = server;
  }

  address(): string | null {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : null;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'POST' || req.method === 'PUT') {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => void this.route(req, res, size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
      return;
    }
    void this.route(req, res, '');
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string | null): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
        if (rawBody === null) {
          send(413, { error: `body larger than ${MAX_BODY} bytes` });
          return { ok: false };
        }
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
      const command = /^\/api\/devices\/([^/]+)\/command$/.exec(url.pathname);
      if (req.method === 'POST' && command) {
        const b = parseBody();
        if (!b.ok) return;
        const r = await this.routes.deviceCommand(decodeURIComponent(command[1]!), b.body);
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
