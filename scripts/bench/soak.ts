/**
 * Soak benchmark (not part of `npm test`): `edge-agent run` at home load for an hour — 20 simulated ESP32s on
 * real PTYs (socat), 1 event/s each, upstream to a local Mosquitto — reporting once a minute, as JSON lines on
 * stdout, the agent's RSS and CPU, frame→durable-ack latency as the devices see it, and event→upstream signal
 * latency as a subscriber sees it, each with its drift from the first minute. A leak or a slow-down shows as
 * drift that keeps growing.
 *
 *   npm run bench:soak                     # 60 minutes
 *   npm run bench:soak -- --minutes 10     # shorter
 *   npm run bench:soak -- --devices 20 --rate 1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { SerialSimDevice } from '../../drivers/sim/serial-sim-device';
import { MiB, cpuSeconds, freePort, rssBytes, startBroker, stopChild, waitForLine } from './proc-stats';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'bin', 'edge-agent.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** A simulated device that notes, per data frame, how long the gateway took to ack it (durable). */
class TimedDevice extends SerialSimDevice {
  private readonly sentAt = new Map<number, number>();
  latencies: number[] = [];

  override sendFrames(frames: DeviceFrame[]): void {
    const now = performance.now();
    for (const f of frames) if ((f.type === 'reading' || f.type === 'event') && !this.sentAt.has(f.seq)) this.sentAt.set(f.seq, now);
    super.sendFrames(frames);
  }

  collectAcks(): void {
    const now = performance.now();
    for (const g of this.received) {
      if (g.type !== 'ack') continue;
      const t = this.sentAt.get(g.body.a);
      if (t !== undefined) {
        this.latencies.push(now - t);
        this.sentAt.delete(g.body.a);
      }
    }
    this.received.length = 0;
  }

  /** frames sent more than `ms` ago and never acked */
  unackedOlderThan(ms: number): number {
    const now = performance.now();
    let n = 0;
    for (const t of this.sentAt.values()) if (now - t > ms) n++;
    return n;
  }
}

const pct = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
};

async function main(): Promise<void> {
  const minutes = arg('minutes', 60);
  const deviceCount = arg('devices', 20);
  const ratePerSec = arg('rate', 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-soak-'));
  fs.chmodSync(dir, 0o755);
  const children: ChildProcess[] = [];
  const devices: TimedDevice[] = [];
  let agent: ChildProcess | null = null;
  let broker: Awaited<ReturnType<typeof startBroker>> = null;
  let sub: mqtt.MqttClient | null = null;
  try {
    broker = await startBroker(fs.mkdtempSync(path.join(dir, 'broker-')));
    if (!broker) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
    const ids = Array.from({ length: deviceCount }, (_, i) => `scale-${i + 1}`);
    const ports = ids.map((id) => ({ gateway: path.join(dir, `tty-${id}`), device: path.join(dir, `tty-${id}-dev`) }));
    for (const p of ports) {
      children.push(spawn('socat', [`pty,raw,echo=0,link=${p.gateway}`, `pty,raw,echo=0,link=${p.device}`], { stdio: 'ignore' }));
    }
    for (const p of ports) while (!fs.existsSync(p.gateway) || !fs.existsSync(p.device)) await new Promise((r) => setTimeout(r, 20));
    const profiles = ['home-a', 'home-b', 'home-c', 'home-d'];
    const cfg = {
      gateway: { id: 'soak-gw', dataDir: path.join(dir, 'data') },
      api: { listen: `127.0.0.1:${await freePort()}` },
      upstream: { url: `mqtt://127.0.0.1:${broker.port}`, profile: 'generic', baseTopic: 'edge' },
      devices: ids.map((id, i) => ({ id, transport: 'serial', port: ports[i].gateway, profile: profiles[i % profiles.length] })),
      campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: 72, threshold: 1e9, channels: ['push'] }],
      engagement: { signalIntervalS: 0 },
      consent: { grants: [...ids.map((device) => ({ device, category: 'usage' })), ...profiles.map((profile) => ({ profile, campaign: 'coffee' }))] },
      log: { level: 'info', file: false },
    };
    const cfgFile = path.join(dir, 'agent.yaml');
    fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));

    // Signals carry their creation time: arrival minus `ts` is the event→upstream latency.
    const signalLatencies: number[] = [];
    sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`);
    await sub.subscribeAsync('edge/soak-gw/signals', { qos: 1 });
    sub.on('message', (_topic, payload) => {
      const now = Date.now();
      for (const s of (JSON.parse(payload.toString()) as { signals: Array<{ ts: number | string }> }).signals) {
        const ts = typeof s.ts === 'number' ? s.ts : Date.parse(s.ts);
        if (Number.isFinite(ts)) signalLatencies.push(now - ts);
      }
    });

    agent = spawn(process.execPath, [CLI, 'run', '--config', cfgFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // the log goes to stderr (stdout is for command output)
    await waitForLine(agent, 'stderr', (l) => l.includes('"ready"'), 30_000);
    agent.stdout?.resume(); // keep draining its log, or the agent blocks on a full pipe
    agent.stderr?.resume();
    const pid = agent.pid!;
    for (let i = 0; i < ids.length; i++) {
      const d = new TimedDevice(ports[i].device, { id: ids[i], model: 'kitchen-scale', fw: '1.4.2', kind: 'kitchen-scale', ratePerMin: ratePerSec * 60 }, { seed: 1000 + i, tickMs: 50 });
      await d.open();
      devices.push(d);
    }
    const ackPoll = setInterval(() => devices.forEach((d) => d.collectAcks()), 10);
    let first: { rss: number; ackP99: number | null; signalP99: number | null } | null = null;
    let cpuBefore = cpuSeconds(pid);
    for (let minute = 1; minute <= minutes; minute++) {
      await new Promise((r) => setTimeout(r, 60_000));
      if (agent.exitCode !== null) throw new Error(`the agent exited (code ${agent.exitCode})`);
      const acks = devices.flatMap((d) => d.latencies);
      devices.forEach((d) => (d.latencies = []));
      const sig = signalLatencies.splice(0);
      const rss = rssBytes(pid);
      const cpu = cpuSeconds(pid);
      const line = {
        minute,
        rssMiB: MiB(rss),
        cpuPct: Math.round(((cpu - cpuBefore) / 60) * 1000) / 10,
        framesAcked: acks.length,
        ackMs: { p50: pct(acks, 50), p99: pct(acks, 99), max: pct(acks, 100) },
        signals: sig.length,
        signalMs: { p50: pct(sig, 50), p99: pct(sig, 99), max: pct(sig, 100) },
        unackedOver10s: devices.reduce((n, d) => n + d.unackedOlderThan(10_000), 0),
        evicted: devices.reduce((n, d) => n + d.device.evicted, 0),
        drift: first
          ? {
              rssMiB: MiB(rss - first.rss),
              ackP99Ms: first.ackP99 !== null && pct(acks, 99) !== null ? Math.round((pct(acks, 99)! - first.ackP99) * 100) / 100 : null,
              signalP99Ms: first.signalP99 !== null && pct(sig, 99) !== null ? Math.round((pct(sig, 99)! - first.signalP99) * 100) / 100 : null,
            }
          : null,
      };
      cpuBefore = cpu;
      if (!first) first = { rss, ackP99: pct(acks, 99), signalP99: pct(sig, 99) };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
    clearInterval(ackPoll);
  } finally {
    for (const d of devices) await d.close();
    if (agent) await stopChild(agent);
    sub?.end(true);
    for (const c of children) await stopChild(c);
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
