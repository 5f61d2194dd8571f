import type * as http from 'node:http';
import type { EventBus } from '../../event-bus';

/**
 * Server-Sent Events for open panels: every consent change (CLI, device button, upstream, another panel) and
 * every device link change is pushed, so a page shows it without reload. The page re-reads its state on an
 * event; events carry what changed, never readings.
 */
export class PanelEvents {
  /** each stream with its session and the check that it is still signed in (sign-out or expiry ends the stream) */
  private readonly clients = new Map<http.ServerResponse, { session: object; signedIn: () => boolean }>();
  private unsubscribe: Array<() => void> = [];
  private keepAlive: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: EventBus,
    /** each open tab holds one connection; beyond this a new one is refused (503) rather than exhausting sockets */
    private readonly maxClients = 32,
    /** one session (one browser) may hold this many, so a single session cannot take every slot (issue #21) */
    private readonly maxPerSession = 4,
  ) {}

  start(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe = [
      this.bus.on('consent', (c) => this.broadcast('consent', c)),
      this.bus.on('device', (d) => this.broadcast('device', { id: d.id, connected: d.connected })),
    ];
    // A comment line now and then keeps proxies and phones from closing an idle stream.
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), 15_000);
    this.keepAlive.unref();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream; false if too many are open, in all or for this session. */
  open(req: http.IncomingMessage, res: http.ServerResponse, headers: Record<string, string>, session: object, signedIn: () => boolean): boolean {
    if (this.clients.size >= this.maxClients) return false;
    let mine = 0;
    for (const c of this.clients.values()) if (c.session === session) mine++;
    if (mine >= this.maxPerSession) return false;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.clients.set(res, { session, signedIn });
    req.on('close', () => this.clients.delete(res));
    return true;
  }

  private broadcast(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    for (const [c, { signedIn }] of this.clients) {
      if (signedIn()) c.write(text);
      else {
        this.clients.delete(c);
        c.end();
      }
    }
  }
}
