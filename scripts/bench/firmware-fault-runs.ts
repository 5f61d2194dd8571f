import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { AgentClient } from '../../agent/cli/api-client';
import type { FirmwareStatus } from '../../agent/firmware-update/firmware-updates';
import { seededRandom } from '../../drivers/sim/sim-driver';
import { Esp32RomSimulator } from '../../test/support/esp-rom-sim';
import { APP_ADDRESS, kitchenScaleImage } from '../../test/support/firmware-packages';
import { PtyPair, hasSocat } from '../../test/support/pty-pair';
import { tempDir } from '../../test/support/temp-dir';
import { ThingsboardDouble } from '../../test/support/thingsboard-double/thingsboard-double';
import { spawnAgent, type RunningAgent } from './agent-process-bench';
import { freePort, stopChild } from './proc-stats';
import type { BenchResult } from './stats';

/** The faults of the issue, one per run, each at a random point of its stage. */
export const FAULTS = [
  'chunk-loss',
  'wrong-checksum',
  'broker-cut',
  'kill-download',
  'kill-flash',
  'never-hello',
  'rom-hang',
] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultRun {
  run: number;
  fault: Fault;
  /** where it struck, in words (chunk 17, block 3, stuck 3 s …) */
  at: string;
  /** the package's final state, or 'stalled' when none came within the run's time */
  outcome: 'UPDATED' | 'FAILED' | 'stalled';
  expected: 'UPDATED' | 'FAILED';
  /** what the simulated flash holds at the app address at the end */
  image: 'new' | 'old' | 'neither';
  reason: string | null;
  seconds: number;
}

const SIZE = 192 * 1024;
const CHUNK = 4096;
const FLASH_BLOCK = 0x4000; // the stub's write block: compressed bytes per FLASH_DEFL_DATA
const RUN_LIMIT_MS = 150_000;

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * One gateway (`edge-agent run`, ThingsBoard profile, the ThingsBoard double as the server) with one ESP32 (the
 * ROM-bootloader simulator on a PTY) that is updated again and again: run n assigns kitchen-scale 3.n.0 with one
 * fault injected at a random point, waits for the package's final state, and checks the simulated flash.
 * A device is bricked when it is left with neither the image it ran before the run nor the new one.
 */
export class FaultCampaign {
  private readonly t = tempDir('edge-fw-faults-');
  private readonly tb = new ThingsboardDouble({ accessToken: 'GW_TOKEN' });
  private readonly pty = new PtyPair(this.t.dir);
  private readonly silent: string[] = [];
  private hooks: { request?: (chunk: number) => void; flashBlock?: (seq: number) => void } = {};
  private readonly sim = new Esp32RomSimulator({
    autoReset: true,
    silentVersions: this.silent,
    onFlashBlock: (seq) => this.hooks.flashBlock?.(seq),
  });
  private agent: RunningAgent | null = null;
  private restarting: Promise<void> | null = null;
  private cfg = '';
  private apiPort = 0;
  private running: Buffer = kitchenScaleImage('3.0.0', SIZE, 1);

  async start(): Promise<void> {
    await this.tb.start(await freePort());
    this.tb.ota.onRequest = (chunk) => this.hooks.request?.(chunk);
    await this.pty.start();
    this.sim.flash.set(this.running, APP_ADDRESS);
    await this.sim.attach(this.pty.device);
    this.apiPort = await freePort();
    this.cfg = path.join(this.t.dir, 'config.yaml');
    fs.writeFileSync(
      this.cfg,
      JSON.stringify({
        gateway: { id: 'gw-faults', dataDir: path.join(this.t.dir, 'data') },
        api: { listen: `127.0.0.1:${this.apiPort}` },
        upstream: { url: this.tb.url, profile: 'thingsboard', accessToken: 'GW_TOKEN', reconnect: { minMs: 50, maxMs: 500 } },
        devices: [{ id: 'scale-7', transport: 'serial', port: this.pty.gateway, profile: 'home-a' }],
        firmware: { helloTimeoutS: 3, stallS: 2, chunkBytes: CHUNK, maxAttempts: 3, baud: 460800, idleS: 0 },
      }),
    );
    this.agent = await spawnAgent(this.cfg, this.apiPort);
    this.sim.powerOn();
    if (!(await until(async () => (await this.device())?.fw === '3.0.0', 60_000)))
      throw new Error('fault runs: the device never said hello with 3.0.0 to the agent');
  }

  async stop(): Promise<void> {
    await this.restarting?.catch(() => undefined);
    if (this.agent) await stopChild(this.agent.child);
    await this.sim.detach();
    await this.pty.stop();
    await this.tb.stop();
    this.t.cleanup();
  }

  private api(): AgentClient {
    return new AgentClient(`http://127.0.0.1:${this.apiPort}`, 'the fault runs');
  }

  private async firmware(): Promise<FirmwareStatus | null> {
    return (await this.api().status().catch(() => null))?.firmware ?? null;
  }

  private async device(): Promise<{ fw: string | null; connected: boolean } | null> {
    const st = await this.api().status().catch(() => null);
    return st?.devices.find((d) => d.id === 'scale-7') ?? null;
  }

  /** SIGKILL now (from inside a hook: the agent dies mid-step), then start it again. */
  private killAgent(): void {
    const a = this.agent;
    if (!a || this.restarting) return;
    this.agent = null;
    a.child.kill('SIGKILL');
    this.restarting = (async () => {
      await new Promise<void>((resolve) => (a.child.exitCode !== null || a.child.signalCode !== null ? resolve() : a.child.once('exit', () => resolve())));
      this.agent = await spawnAgent(this.cfg, this.apiPort);
    })().finally(() => (this.restarting = null));
  }

  private holds(image: Buffer): boolean {
    return Buffer.compare(Buffer.from(this.sim.flash.subarray(APP_ADDRESS, APP_ADDRESS + image.length)), image) === 0;
  }

  /** Sets up `fault` for the next assignment; returns where it will strike and what the run should end in. */
  private arm(fault: Fault, rnd: () => number, version: string, image: Buffer): { at: string; expected: 'UPDATED' | 'FAILED'; serve: Buffer } {
    const chunks = Math.ceil(image.length / CHUNK);
    const blocks = Math.max(1, Math.ceil(zlib.deflateSync(image).length / FLASH_BLOCK));
    const pick = (n: number): number => Math.floor(rnd() * n);
    const once = (fn: () => void): (() => void) => {
      let done = false;
      return () => {
        if (!done) {
          done = true;
          fn();
        }
      };
    };
    switch (fault) {
      case 'chunk-loss': {
        const lost = [...new Set([pick(chunks), pick(chunks)])];
        for (const c of lost) this.tb.ota.dropOnce.add(c);
        return { at: `chunks ${lost.join(', ')} lost`, expected: 'UPDATED', serve: image };
      }
      case 'wrong-checksum': {
        const bad = Buffer.from(image);
        const at = pick(bad.length);
        bad[at] ^= 0x5a;
        return { at: `byte ${at} of the served package changed`, expected: 'FAILED', serve: bad };
      }
      case 'broker-cut': {
        const k = pick(chunks);
        const downMs = 100 + pick(1500);
        const cut = once(() => void this.tb.restart(downMs));
        this.hooks.request = (chunk) => chunk >= k && cut();
        return { at: `server restart at chunk ${k}, down ${downMs} ms`, expected: 'UPDATED', serve: image };
      }
      case 'kill-download': {
        const k = pick(chunks);
        const kill = once(() => this.killAgent());
        this.hooks.request = (chunk) => chunk >= k && kill();
        return { at: `SIGKILL at chunk ${k}`, expected: 'UPDATED', serve: image };
      }
      case 'kill-flash': {
        const k = pick(blocks);
        const kill = once(() => this.killAgent());
        this.hooks.flashBlock = (seq) => seq === k && kill();
        return { at: `SIGKILL at block ${k} of ${blocks}`, expected: 'UPDATED', serve: image };
      }
      case 'never-hello':
        this.silent.push(version);
        return { at: `${version} never says hello`, expected: 'FAILED', serve: image };
      case 'rom-hang': {
        const k = pick(blocks);
        const stuckMs = rnd() < 0.5 ? 0 : 3000;
        // persistent: every try of the new image wedges (3 tries), the rollback's write goes through
        const persistent = rnd() < 0.3;
        const start = this.sim.hangs;
        const wedge = (): void => this.sim.hang(stuckMs);
        const first = once(wedge);
        this.hooks.flashBlock = (seq) => {
          if (seq !== k) return;
          if (persistent && this.sim.hangs - start < 3) wedge();
          else if (!persistent) first();
        };
        return {
          at: `wedged at block ${k} of ${blocks}${stuckMs ? ', not reading for 3 s' : ''}${persistent ? ', on every try' : ''}`,
          expected: persistent ? 'FAILED' : 'UPDATED',
          serve: image,
        };
      }
    }
  }

  /** Run `n`: assigns 3.n.0 with `fault`, waits for the final state, checks the flash. */
  async run(n: number, fault: Fault, rnd: () => number): Promise<FaultRun> {
    const version = `3.${n}.0`;
    const image = kitchenScaleImage(version, SIZE, 1000 + n);
    const before = this.running;
    const started = Date.now();
    this.hooks = {};
    const armed = this.arm(fault, rnd, version, image);
    await this.tb.assignFirmware({ title: 'kitchen-scale', version, checksumAlgorithm: 'SHA256', data: image });
    if (armed.serve !== image) this.tb.ota.pkg = { ...this.tb.ota.pkg!, data: armed.serve };
    let fw: FirmwareStatus | null = null;
    const final = await until(async () => {
      if (this.restarting) return false;
      fw = await this.firmware();
      const st = fw?.state;
      return fw?.package?.version === version && (st === 'UPDATED' || st === 'FAILED') && !fw.devices.some((d) => d.state === 'UPDATING');
    }, RUN_LIMIT_MS);
    this.hooks = {};
    await this.restarting?.catch(() => undefined);
    const last = fw as FirmwareStatus | null;
    const outcome = final && last?.state ? (last.state as 'UPDATED' | 'FAILED') : 'stalled';
    const image_ = this.holds(image) ? 'new' : this.holds(before) ? 'old' : 'neither';
    if (image_ === 'new') this.running = image;
    // the next run starts from a device that said hello with what it runs
    const expectFw = image_ === 'new' ? version : image_ === 'old' ? this.versionOf(before) : null;
    if (expectFw) await until(async () => (await this.device())?.fw === expectFw, 30_000);
    const reason = last?.error ?? last?.devices[0]?.reason ?? null;
    return { run: n, fault, at: armed.at, outcome, expected: armed.expected, image: image_, reason, seconds: (Date.now() - started) / 1000 };
  }

  private versionOf(image: Buffer): string {
    // the app descriptor's version field (esp_app_desc_t at 24 + 8 bytes into the image, version at +16)
    const v = image.subarray(24 + 8 + 16, 24 + 8 + 48);
    return v.subarray(0, v.indexOf(0) < 0 ? 32 : v.indexOf(0)).toString('utf8');
  }
}

const argValue = (argv: readonly string[], flag: string): number | null => {
  const i = argv.indexOf(flag);
  if (i < 0) return null;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got "${argv[i + 1] ?? ''}"`);
  return n;
};

/** Per fault: runs, outcomes, bricked, and runs that ended otherwise than the fault should (one row each). */
export function summarise(runs: readonly FaultRun[]): BenchResult[] {
  const out: BenchResult[] = [];
  for (const fault of FAULTS) {
    const rs = runs.filter((r) => r.fault === fault);
    if (rs.length === 0) continue;
    const count = (p: (r: FaultRun) => boolean): number => rs.filter(p).length;
    out.push({
      name: `faults.${fault}`,
      value: rs.length,
      unit: 'runs',
      peer: `UPDATED ${count((r) => r.outcome === 'UPDATED')}, FAILED ${count((r) => r.outcome === 'FAILED')} (old image ${count((r) => r.outcome === 'FAILED' && r.image === 'old')}), stalled ${count((r) => r.outcome === 'stalled')}, bricked ${count((r) => r.image === 'neither')}, not as expected ${count((r) => r.outcome !== r.expected)}`,
    });
  }
  const secs = runs.map((r) => r.seconds).sort((a, b) => a - b);
  out.push(
    { name: 'faults.runs', value: runs.length, unit: 'runs' },
    { name: 'faults.bricked', value: runs.filter((r) => r.image === 'neither').length, unit: 'devices', target: '0' },
    { name: 'faults.stalled', value: runs.filter((r) => r.outcome === 'stalled').length, unit: 'runs', target: '0' },
    { name: 'faults.not_as_expected', value: runs.filter((r) => r.outcome !== r.expected).length, unit: 'runs', target: '0' },
    { name: 'faults.run_seconds_median', value: secs[Math.floor(secs.length / 2)] ?? 0, unit: 's', peer: `max ${secs.at(-1) ?? 0}` },
  );
  return out;
}

/**
 * `npm run bench -- --only faults [--runs N] [--seed S]`: N fault-injected updates (default 20; the campaign of docs/firmware-updates.md §9 is --runs 100; 7 with --quick:
 * one of each fault) through the running agent, a random fault at a random point per run; prints the seed and
 * every run, and reports per fault the outcomes and the bricked devices.
 */
export async function firmwareFaultRuns(quick: boolean, argv: readonly string[] = process.argv): Promise<BenchResult[]> {
  if (!hasSocat) return [];
  const runs = argValue(argv, '--runs') ?? (quick ? FAULTS.length : 20);
  const seed = argValue(argv, '--seed') ?? Math.floor(Math.random() * 2 ** 31);
  process.stderr.write(`faults: ${runs} runs, seed ${seed} (again: --seed ${seed})\n`);
  const rnd = seededRandom(seed);
  const campaign = new FaultCampaign();
  const done: FaultRun[] = [];
  try {
    await campaign.start();
    for (let n = 1; n <= runs; n++) {
      // with --quick every fault once, in order; else a random one per run
      const fault = quick ? FAULTS[(n - 1) % FAULTS.length] : FAULTS[Math.floor(rnd() * FAULTS.length)];
      const r = await campaign.run(n, fault, rnd);
      done.push(r);
      process.stderr.write(
        `faults: run ${n} ${fault} (${r.at}): ${r.outcome}, ${r.image} image, ${r.seconds.toFixed(1)} s${r.outcome !== r.expected ? ` NOT AS EXPECTED (${r.expected})` : ''}${r.reason ? ` — ${r.reason}` : ''}\n`,
      );
      if (r.image === 'neither' || r.outcome === 'stalled') break; // the device is not where a next run can start
    }
  } finally {
    await campaign.stop();
  }
  return summarise(done);
}
