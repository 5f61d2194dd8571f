import { HttpListener, closeWithoutReading, limitedServer } from '../http-listener';
import type { HouseholdPanel } from './household-panel';

/**
 * LAN mode (`api.panel.lanListen`): a second listener for phones on the home network that serves the panel and
 * nothing else — the local API (status, metrics, bearer-token mutations) stays on loopback.
 */
export class PanelLanListener {
  private readonly listener: HttpListener;

  constructor(
    listen: string,
    private readonly panel: HouseholdPanel,
  ) {
    this.listener = new HttpListener('api.panel.lanListen', listen);
  }

  async start(): Promise<void> {
    const server = limitedServer((req, res) => {
      let p: string;
      try {
        p = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        // A request target like `//` or `http://[`: refused, never thrown (it would take the agent down).
        closeWithoutReading(req, res);
        res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
        return void res.end(JSON.stringify({ error: 'malformed request target' }) + '\n');
      }
      if (this.panel.handles(p)) return void this.panel.handle(req, res);
      closeWithoutReading(req, res);
      if (p === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
        res.writeHead(302, { location: '/panel/' });
        return void res.end();
      }
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'only the household panel (/panel/) is served on this address' }) + '\n');
    });
    server.keepAliveTimeout = 5000;
    await this.listener.start(server);
  }

  address(): string | null {
    return this.listener.address();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }
}
