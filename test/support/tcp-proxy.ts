import * as net from 'node:net';

/**
 * A loopback TCP proxy the test controls, to make a bad uplink: open (bytes piped to the target), closed
 * (connections refused, as if the uplink were down), `refusing` (connections accepted and closed at once: the far
 * end is unreachable), `cut()` (every live connection dropped mid-stream, as a flaky mobile link or a NAT timeout
 * does), and `latencyMs` (every chunk delayed in each direction, order kept).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly live = new Set<net.Socket>();
  latencyMs = 0;
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
    from.on('data', (chunk: Buffer) => {
      if (this.latencyMs === 0) to.write(chunk);
      else setTimeout(() => !to.destroyed && to.write(chunk), this.latencyMs);
    });
  }

  async open(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      if (this.refusing) return void client.destroy();
      this.stats.connections++;
      const upstream = net.connect(this.targetPort, '127.0.0.1');
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
