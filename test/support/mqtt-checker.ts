import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { waitUntil } from './wait-until';

/** Mosquitto's command-line clients (Debian package mosquitto-clients; .ci/run installs it). */
export const hasMosquittoClients = spawnSync('which', ['mosquitto_sub']).status === 0;

export interface Received {
  topic: string;
  payload: string;
}

/**
 * An independent MQTT client (Mosquitto's own `mosquitto_sub`, not mqtt.js) that records every message. With a
 * persistent session (`-c`), messages published while it is away (broker restart) are queued for it by the
 * broker; it is restarted whenever it exits.
 */
export class MqttChecker {
  readonly messages: Received[] = [];
  private proc: ChildProcess | null = null;
  private stopped = false;
  private buf = '';

  constructor(
    private readonly port: number,
    private readonly topics: string[],
    private readonly clientId = `checker-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    private readonly auth?: { user: string; password: string },
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.spawn();
    await new Promise((r) => setTimeout(r, 300)); // subscribed before anything is published
  }

  private spawn(): void {
    const args = ['-h', '127.0.0.1', '-p', String(this.port), '-q', '1', '-c', '-i', this.clientId, '-F', '%t\t%p'];
    for (const t of this.topics) args.push('-t', t);
    if (this.auth) args.push('-u', this.auth.user, '-P', this.auth.password);
    const p = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.proc = p;
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const tab = line.indexOf('\t');
        this.messages.push({ topic: line.slice(0, tab), payload: line.slice(tab + 1) });
      }
    });
    p.on('exit', () => {
      if (this.proc === p) this.proc = null;
      if (!this.stopped) setTimeout(() => !this.stopped && !this.proc && this.spawn(), 200);
    });
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  json<T>(topic: string): T[] {
    return this.on(topic).map((m) => JSON.parse(m.payload) as T);
  }

  waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
    return waitUntil(what, cond, timeoutMs, () => `; got ${this.messages.length} messages: ${this.messages.slice(-5).map((m) => m.topic).join(', ')}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const p = this.proc;
    this.proc = null;
    if (p && p.exitCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    }
  }
}
