import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { SerialSimDevice } from '../../drivers/sim/serial-sim-device';
import { seededRandom } from '../../drivers/sim/sim-driver';
import { freePort } from '../support/free-port';
import { Mosquitto } from '../support/mosquitto';
import { MqttChecker } from '../support/mqtt-checker';
import { PtyPair } from '../support/pty-pair';
import { runCli, startCli } from '../support/run-cli';
import { TcpProxy } from '../support/tcp-proxy';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

/** A data frame as the device first sent it, and when (if ever) the device saw its ack. */
interface SentFrame {
  frame: Extract<DeviceFrame, { type: 'reading' | 'event' }>;
  ackedAt: number | null;
}

/**
 * A SerialSimDevice that remembers every data frame it sent (by seq) and when its ack arrived: the device's side
 * of the history the checker judges. It stays open across agent restarts (the PTY stays; the agent reopens it).
 */
export class RecordingDevice extends SerialSimDevice {
  readonly sent = new Map<number, SentFrame>();

  override sendFrames(frames: DeviceFrame[]): void {
    for (const f of frames) {
      if ((f.type === 'reading' || f.type === 'event') && !this.sent.has(f.seq)) this.sent.set(f.seq, { frame: f, ackedAt: null });
    }
    super.sendFrames(frames);
  }

  /** Called for every ack the device decodes (hooked in by the harness). */
  noteAcks(): void {
    for (const g of this.received) {
      if (g.type !== 'ack') continue;
      const s = this.sent.get(g.body.a);
      if (s && s.ackedAt === null) s.ackedAt = Date.now();
    }
    this.received.length = 0;
  }

  /** Stops new sampling; retransmissions of unacked frames go on (the firmware's `pause` command). */
  pauseSampling(): void {
    this.device.onGatewayFrame({ type: 'command', seq: 0, body: { c: 'pause' } });
  }

  resumeSampling(): void {
    this.device.onGatewayFrame({ type: 'command', seq: 0, body: { c: 'resume' } });
  }
}

export interface Signal {
  id: string;
  profile: string;
  campaign: string;
  f: number;
  ts: number;
}

export interface CrashLoopOptions {
  seed: number;
  kills: number;
  devices: number;
  /** events per minute per device */
  ratePerMin: number;
  minRunMs: number;
  maxRunMs: number;
  /** the uplink is cut (proxy closed) for kills in [from, to): a backlog builds up */
  uplinkDown: { from: number; to: number };
  /** after this kill a campaign consent is withdrawn through the CLI (with the backlog queued) */
  withdrawCampaignAt: number;
  /** after this kill a device consent is withdrawn through the CLI */
  withdrawDeviceAt: number;
  log?: (line: string) => void;
}

export interface CrashLoopReport {
  seed: number;
  kills: number;
  killedBeforeReady: number;
  framesSent: number;
  framesAcked: number;
  framesEvicted: number;
  rowsStored: number;
  /**
   * stored rows beyond the acked count of their key: frames committed whose ack the kill lost and that the device
   * then evicted (stored once, never acked) count here too, so this is not a duplicate count; see storedBeyondSent
   */
  storedTwice: number;
  /**
   * rows stored more often than the device ever produced a frame with that content (each retransmission of the
   * same seq is one frame): a frame stored twice shows here unless another frame with the same content was lost
   */
  storedBeyondSent: number;
  ackedMissing: string[];
  ackedConsentDropped: number;
  signalsUpstream: number;
  signalIdsUpstream: number;
  resentSameContent: number;
  resentDifferentContent: string[];
  withdrawnScopeArrivedAfter: string[];
  campaignWithdrawalPurged: number;
  ledgerVerify: { code: number | null; stdout: string };
  ms: number;
}

export const frameKey = (device: string, f: SentFrame['frame']): string => {
  if (f.type === 'event') return `${device}|e|${f.body.e}|${f.body.ch ?? ''}|${f.body.v ?? ''}`;
  const r = f.body.readings[0];
  return `${device}|r|${r.ch}|${r.v}|${r.t ?? ''}`;
};

/** Every stored reading and event as a multiset of frame keys (the same keys `frameKey` makes). */
export function storedFrames(dbFile: string): { stored: Map<string, number>; rows: number } {
  const db = new Database(dbFile, { readonly: true });
  const stored = new Map<string, number>();
  let rows = 0;
  const add = (k: string): void => {
    stored.set(k, (stored.get(k) ?? 0) + 1);
    rows++;
  };
  try {
    for (const r of db.prepare('SELECT device, name, ch, v FROM events').all() as Array<{ device: string; name: string; ch: number | null; v: number | null }>) {
      add(`${r.device}|e|${r.name}|${r.ch ?? ''}|${r.v ?? ''}`);
    }
    for (const r of db.prepare('SELECT device, ch, v, device_t AS t FROM readings').all() as Array<{ device: string; ch: number; v: number; t: number | null }>) {
      add(`${r.device}|r|${r.ch}|${r.v}|${r.t ?? ''}`);
    }
  } finally {
    db.close();
  }
  return { stored, rows };
}

/** Frames the devices saw acked at or before `before` that the store does not hold (multiset difference). */
export function ackedButMissing(devices: readonly RecordingDevice[], stored: ReadonlyMap<string, number>, before = Infinity): string[] {
  const need = new Map<string, number>();
  for (const d of devices) {
    for (const s of d.sent.values()) {
      if (s.ackedAt === null || s.ackedAt > before) continue;
      const k = frameKey(d.device.spec.id, s.frame);
      need.set(k, (need.get(k) ?? 0) + 1);
    }
  }
  return [...need].filter(([k, n]) => (stored.get(k) ?? 0) < n).map(([k, n]) => `${k} acked ${n}× stored ${stored.get(k) ?? 0}×`);
}

/**
 * Jepsen-style crash loop: the real CLI (`edge-agent run`) under simulated serial devices on real PTYs (socat)
 * and a real Mosquitto, SIGKILLed at seeded random moments and restarted; then the histories are checked.
 */
export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopReport> {
  const started = Date.now();
  const log = o.log ?? ((): void => undefined);
  const rng = seededRandom(o.seed);
  const t = tempDir('edge-crashloop-');
  const dataDir = path.join(t.dir, 'data');
  const broker = new Mosquitto(await freePort(), { persistence: true });
  const proxy = new TcpProxy(await freePort(), broker.port);
  const checker = new MqttChecker(broker.port, ['edge/gw-crashloop/signals'], `crashloop-${o.seed}`);
  const ptys: PtyPair[] = [];
  const devices: RecordingDevice[] = [];
  const apiPort = await freePort();
  const cfgFile = path.join(t.dir, 'config.yaml');
  const ids = Array.from({ length: o.devices }, (_, i) => `scale-${i + 1}`);
  const profileOf = (i: number): string => (i % 2 === 0 ? 'home-a' : 'home-b');
  let agent: ReturnType<typeof startCli> | null = null;
  const ackTimer = setInterval(() => devices.forEach((d) => d.noteAcks()), 5);
  try {
    await broker.start();
    await checker.start();
    await proxy.open();
    for (const id of ids) {
      const p = new PtyPair(t.dir, `tty-${id}`);
      await p.start();
      ptys.push(p);
    }
    fs.writeFileSync(
      cfgFile,
      [
        `gateway: { id: gw-crashloop, dataDir: ${dataDir} }`,
        `api: { listen: "127.0.0.1:${apiPort}" }`,
        `upstream: { url: "${proxy.url}", batch: { maxRows: 50, delayMs: 20 }, reconnect: { minMs: 50, maxMs: 300 } }`,
        'devices:',
        ...ids.map((id, i) => `  - { id: ${id}, transport: serial, port: ${ptys[i].gateway}, baud: 115200, profile: ${profileOf(i)} }`),
        'campaigns:',
        '  - { id: coffee, qualify: { event: dispense }, value: 50, threshold: 1000000, channels: [push] }',
        'engagement: { signalIntervalS: 0 }',
        'log: { level: info, file: false }',
        'consent:',
        '  grants:',
        ...ids.map((id) => `    - { device: ${id}, category: usage }`),
        '    - { profile: home-a, campaign: coffee }',
        '    - { profile: home-b, campaign: coffee }',
        '',
      ].join('\n'),
    );
    const start = (): ReturnType<typeof startCli> => startCli(['run', '--config', cfgFile]);
    const kill = async (a: ReturnType<typeof startCli>): Promise<void> => {
      a.child.kill('SIGKILL');
      await a.exit;
    };

    // First run: the devices say hello and the agent records their channels before the loop starts. (A hello
    // is not acked, so a device cannot know it was recorded; a real ESP32 re-sends it when the port opens.)
    agent = start();
    await agent.waitFor(/ready/, 20_000);
    for (let i = 0; i < ids.length; i++) {
      const d = new RecordingDevice(ptys[i].device, { id: ids[i], model: 'kitchen-scale', fw: '1.4.2', kind: 'kitchen-scale', ratePerMin: o.ratePerMin }, { seed: o.seed + i, tickMs: 20 });
      await d.open();
      devices.push(d);
    }
    await waitUntil('the first acks', () => devices.every((d) => [...d.sent.values()].some((s) => s.ackedAt !== null)), 15_000);
    await kill(agent);
    agent = null;

    let killedBeforeReady = 0;
    let campaignWithdrawalPurged = 0;
    let withdrawnAfterIndex = -1; // checker messages from this index on arrived after the campaign withdrawal
    let deviceWithdrawnAt = -1;
    const withdrawnDevice = ids[ids.length - 1];
    for (let k = 0; k < o.kills; k++) {
      if (k === o.uplinkDown.from) await proxy.close();
      if (k === o.uplinkDown.to) await proxy.open();
      const a = start();
      agent = a;
      const runMs = o.minRunMs + rng() * (o.maxRunMs - o.minRunMs);
      // One kill in five lands during start-up (opening the database, migrations, seeding consent); never on a
      // run that has a withdrawal to make.
      const duringStartup = rng() < 0.2 && k !== o.withdrawCampaignAt && k !== o.withdrawDeviceAt;
      if (duringStartup) {
        killedBeforeReady++;
        await new Promise((r) => setTimeout(r, runMs));
      } else {
        await a.waitFor(/ready/, 20_000);
        if (k === o.withdrawCampaignAt) {
          const r = await runCli(['consent', 'revoke', '--profile', 'home-b', '--campaign', 'coffee', '--config', cfgFile, '--json']);
          if (r.code !== 0) throw new Error(`consent revoke failed: ${r.stdout}${r.stderr}`);
          campaignWithdrawalPurged = (JSON.parse(r.stdout) as { purged: { outbox: number } }).purged.outbox;
          // A batch already written to the socket before the withdrawal may still be on its way: 1 s grace.
          await new Promise((r) => setTimeout(r, 1000));
          withdrawnAfterIndex = checker.messages.length;
          log(`kill ${k}: campaign home-b/coffee withdrawn, ${campaignWithdrawalPurged} queued signals purged`);
        }
        if (k === o.withdrawDeviceAt) {
          deviceWithdrawnAt = Date.now();
          const r = await runCli(['consent', 'revoke', '--device', withdrawnDevice, '--category', 'usage', '--config', cfgFile, '--json']);
          if (r.code !== 0) throw new Error(`consent revoke failed: ${r.stdout}${r.stderr}`);
          log(`kill ${k}: device ${withdrawnDevice}/usage withdrawn`);
        }
        await new Promise((r) => setTimeout(r, runMs));
      }
      await kill(a);
      agent = null;
    }

    // Final run: devices stop sampling, their unacked frames are retransmitted and acked, the outbox drains.
    await proxy.open();
    for (const d of devices) d.pauseSampling();
    agent = start();
    await agent.waitFor(/ready/, 20_000);
    for (const d of devices) await d.drained(30_000);
    const flush = await runCli(['sync', '--now', '--config', cfgFile, '--json'], { timeoutMs: 60_000 });
    if (flush.code !== 0) throw new Error(`sync --now failed: ${flush.stdout}${flush.stderr}`);
    agent.child.kill('SIGTERM');
    await agent.exit;
    agent = null;
    await new Promise((r) => setTimeout(r, 500)); // the subscriber prints what the broker already delivered

    // ---- the checker ----
    const { stored, rows: rowsStored } = storedFrames(path.join(dataDir, 'edge-agent.db'));
    // Acked ⊆ stored, as multisets: each acked frame needs its own row (values can repeat).
    const ackedNeed = new Map<string, number>();
    let framesSent = 0;
    let framesAcked = 0;
    let ackedConsentDropped = 0;
    for (const d of devices) {
      for (const s of d.sent.values()) {
        framesSent++;
        if (s.ackedAt === null) continue;
        framesAcked++;
        // Acked after the device withdrawal started: may have been dropped for lack of consent (and acked).
        if (d.device.spec.id === withdrawnDevice && deviceWithdrawnAt >= 0 && s.ackedAt >= deviceWithdrawnAt) {
          ackedConsentDropped++;
          continue;
        }
        const k = frameKey(d.device.spec.id, s.frame);
        ackedNeed.set(k, (ackedNeed.get(k) ?? 0) + 1);
      }
    }
    const sentByKey = new Map<string, number>();
    for (const d of devices) {
      for (const sf of d.sent.values()) {
        const k = frameKey(d.device.spec.id, sf.frame);
        sentByKey.set(k, (sentByKey.get(k) ?? 0) + 1);
      }
    }
    let storedBeyondSent = 0;
    for (const [k, have] of stored) storedBeyondSent += Math.max(0, have - (sentByKey.get(k) ?? 0));
    const ackedMissing: string[] = [];
    let storedTwice = 0;
    for (const [k, n] of ackedNeed) {
      const have = stored.get(k) ?? 0;
      if (have < n) ackedMissing.push(`${k} acked ${n}× stored ${have}×`);
      if (have > n) storedTwice += have - n;
    }

    // Upstream: unique by id, or a re-send of the same id with the same content.
    const copies = new Map<string, Set<string>>();
    let signalsUpstream = 0;
    const withdrawnScopeArrivedAfter: string[] = [];
    checker.messages.forEach((m, i) => {
      const batch = JSON.parse(m.payload) as { signals: Signal[] };
      for (const s of batch.signals) {
        signalsUpstream++;
        const c = copies.get(s.id) ?? new Set<string>();
        c.add(JSON.stringify(s));
        copies.set(s.id, c);
        if (withdrawnAfterIndex >= 0 && i >= withdrawnAfterIndex && s.profile === 'home-b' && s.campaign === 'coffee') {
          withdrawnScopeArrivedAfter.push(`${s.id} (f=${s.f})`);
        }
      }
    });
    const resentDifferentContent = [...copies].filter(([, c]) => c.size > 1).map(([id]) => id);
    const ledgerVerify = await runCli(['consent', 'verify', '--config', cfgFile]);
    return {
      seed: o.seed,
      kills: o.kills,
      killedBeforeReady,
      framesSent,
      framesAcked,
      framesEvicted: devices.reduce((n, d) => n + d.device.evicted, 0),
      rowsStored,
      storedTwice,
      storedBeyondSent,
      ackedMissing,
      ackedConsentDropped,
      signalsUpstream,
      signalIdsUpstream: copies.size,
      resentSameContent: signalsUpstream - copies.size,
      resentDifferentContent,
      withdrawnScopeArrivedAfter,
      campaignWithdrawalPurged,
      ledgerVerify: { code: ledgerVerify.code, stdout: ledgerVerify.stdout.trim() },
      ms: Date.now() - started,
    };
  } finally {
    clearInterval(ackTimer);
    if (agent) {
      agent.child.kill('SIGKILL');
      await agent.exit;
    }
    for (const d of devices) await d.close();
    for (const p of ptys) await p.stop();
    await checker.stop();
    await proxy.close();
    await broker.dispose();
    t.cleanup();
  }
}
