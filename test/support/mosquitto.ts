import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tempDir } from './temp-dir';

const BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));

export const hasMosquitto = BINARY !== undefined;

function waitForPort(port: number, timeoutMs: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (proc.exitCode !== null) return reject(new Error(`mosquitto exited with ${proc.exitCode} before listening on ${port}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export interface MosquittoOptions {
  /** require this user (password file made with mosquitto_passwd) */
  user?: { name: string; password: string };
  /** a TLS listener on `tls.port` with this server certificate; `requireClientCert` asks for a client certificate */
  tls?: { port: number; ca: string; cert: string; key: string; requireClientCert?: boolean };
  /** keep sessions and queued messages across restarts (persistent subscribers survive a broker restart) */
  persistence?: boolean;
  /**
   * `set_tcp_nodelay true`: no Nagle delay on the broker's sockets, as ThingsBoard's Netty transport sends (the
   * firmware bench's stand-in for its MQTT transport: large chunk answers are not held for a delayed ACK)
   */
  tcpNoDelay?: boolean;
}

/** A real Mosquitto broker on loopback for tests; can be stopped and restarted on the same port. */
export class Mosquitto {
  private proc: ChildProcess | null = null;
  private readonly dir = tempDir('edge-mosq-');
  log = '';

  constructor(
    readonly port: number,
    private readonly opts: MosquittoOptions = {},
  ) {}

  get tlsUrl(): string {
    if (!this.opts.tls) throw new Error('no TLS listener configured');
    return `mqtts://127.0.0.1:${this.opts.tls.port}`;
  }

  /** the broker's process id while it runs (benchmarks read its CPU and memory from /proc) */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!BINARY) throw new Error('mosquitto is not installed (apt-get install mosquitto; .ci/run does it)');
    const conf = path.join(this.dir.dir, 'mosquitto.conf');
    const lines = [`per_listener_settings false`, `listener ${this.port} 127.0.0.1`];
    if (this.opts.tls) {
      const t = this.opts.tls;
      lines.push(`listener ${t.port} 127.0.0.1`, `cafile ${t.ca}`, `certfile ${t.cert}`, `keyfile ${t.key}`);
      if (t.requireClientCert) lines.push('require_certificate true');
    }
    if (this.opts.user) {
      const pw = path.join(this.dir.dir, 'passwd');
      fs.writeFileSync(pw, '');
      const r = spawnSync('mosquitto_passwd', ['-b', pw, this.opts.user.name, this.opts.user.password]);
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
      fs.chmodSync(pw, 0o644);
      lines.push('allow_anonymous false', `password_file ${pw}`);
    } else lines.push('allow_anonymous true');
    // Mosquitto started as root drops to the `mosquitto` user: it must read its password file and write its
    // database here (mkdtemp makes directories 0700).
    fs.chmodSync(this.dir.dir, 0o777);
    if (this.opts.persistence) lines.push('persistence true', `persistence_location ${this.dir.dir}/`, 'autosave_interval 1');
    else lines.push('persistence false');
    if (this.opts.tcpNoDelay) lines.push('set_tcp_nodelay true');
    fs.writeFileSync(conf, lines.join('\n') + '\n');
    this.proc = spawn(BINARY, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    try {
      await waitForPort(this.port, 5000, this.proc);
      if (this.opts.tls) await waitForPort(this.opts.tls.port, 5000, this.proc);
    } catch (err) {
      throw new Error(`${(err as Error).message}; mosquitto said: ${this.log.trim() || '(nothing)'}`);
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.dir.cleanup();
  }
}
