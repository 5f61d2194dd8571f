import type * as http from 'node:http';
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
