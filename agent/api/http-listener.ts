import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) throw new Error(`api.listen "${listen}" must be host:port, e.g. 127.0.0.1:8787`);
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`api.listen "${listen}": bad port`);
  return { host, port };
}

/**
 * Connection time limits for every listener (issue #21): headers must arrive within 10 s and the whole request
 * within 20 s of the connection's first byte, checked every second, so idle and half-sent connections are not
 * held for minutes. Answers may take longer (a sync flush, a device command); event streams are not affected.
 */
export const CONNECTION_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, checkIntervalMs: 1000 } as const;

/** An HTTP server with CONNECTION_LIMITS applied. */
export function limitedServer(handler: http.RequestListener): http.Server {
  return http.createServer(
    {
      headersTimeout: CONNECTION_LIMITS.headersTimeoutMs,
      requestTimeout: CONNECTION_LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: CONNECTION_LIMITS.checkIntervalMs,
    },
    handler,
  );
}

/**
 * For a request whose body will not be read (refused before it): the response closes the connection, so the
 * body is never read to its end (Node would otherwise read and discard it to keep the connection alive).
 */
export function closeWithoutReading(req: http.IncomingMessage, res: http.ServerResponse): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || req.complete) return;
  res.shouldKeepAlive = false;
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroy());
}

/**
 * One HTTP server bound to a configured `host:port` (the local API, the panel's LAN listener): listen with an
 * error that names the config key, report the bound address, close with its connections.
 */
export class HttpListener {
  private server: http.Server | null = null;

  constructor(
    /** the config key the address comes from, for error messages (`api.listen`, `api.panel.lanListen`) */
    private readonly key: string,
    private readonly listen: string,
    /** what to say when the address is taken */
    private readonly inUseHint = '',
  ) {}

  async start(server: http.Server): Promise<void> {
    const { host, port } = parseListen(this.listen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'EADDRINUSE' ? `${this.key} ${this.listen} is in use${this.inUseHint}` : `${this.key} ${this.listen}: ${err.message}`)),
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
}
