import * as net from 'node:net';

/**
 * A loopback TCP proxy the test controls, to make a bad uplink: open (bytes piped to the target), closed
 * (connections refused, as if the uplink were down), `refusing` (connections accepted and closed at once: the far
 * end is unreachable), `cut()` (every live connection dropped mid-stream, as a flaky mobile link or a NAT timeout
 * does), `latencyMs` (every chunk delayed in each direction, order kept) and `bytesPerSecond` (each direction
 * sends at most that fast, as a home uplink would: a chunk leaves after the ones before it, then takes its size's
 * share of a second, then `latencyMs`).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly live = new Set<net.Socket>();
  latencyMs = 0;
  /** 0: as fast as loopback */
  bytesPerSecond = 0;
  refusing = false;
  /** connections accepted, and cut by `cut()` */
  readonly stats = { connections: 0, cuts: 0 };

  constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  private pipe(from: net.Socket, to: net.Socket): void {
    // One queue and one timer per direction: a timer per chunk could fire out of order (Node dates a timer from
    // the loop's cached clock), and a TCP stream must never be reordered.
    const queue: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    let lineFreeAt = 0; // when the last chunk sent this way has left (ms, for bytesPerSecond)
    const pump = (): void => {
      timer = null;
      while (queue.length > 0 && queue[0].due <= performance.now()) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(pump, Math.max(1, queue[0].due - performance.now()));
    };
    from.on('data', (chunk: Buffer) => {
      if (this.latencyMs === 0 && this.bytesPerSecond === 0 && queue.length === 0) return void to.write(chunk);
      const now = performance.now();
      let due = now + this.latencyMs;
      if (this.bytesPerSecond > 0) {
        lineFreeAt = Math.max(now, lineFreeAt) + (1000 * chunk.length) / this.bytesPerSecond;
        due = lineFreeAt + this.latencyMs;
      }
      queue.push({ due, chunk });
      timer ??= setTimeout(pump, Math.max(1, due - now));
    });
  }

  async open(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      if (this.refusing) return void client.destroy();
      this.stats.connections++;
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      // a router forwards what it gets: no Nagle of its own in the path
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      this.live.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.live.delete(client);
        this.live.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      this.pipe(client, upstream);
      this.pipe(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  cut(): void {
    if (this.live.size > 0) this.stats.cuts++;
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  async close(): Promise<void> {
    this.cut();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
