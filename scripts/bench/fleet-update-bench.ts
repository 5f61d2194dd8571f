import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentClient } from '../../agent/cli/api-client';
import type { Rollout } from '../../agent/firmware-update/rollout-plan';
import { kitchenScaleImage, packageOf } from '../../test/support/firmware-packages';
import { freePort } from '../../test/support/free-port';
import { Mosquitto, hasMosquitto } from '../../test/support/mosquitto';
import { OtaServerDouble } from '../../test/support/ota-server-double';
import { PtyPair, hasSocat } from '../../test/support/pty-pair';
import { tempDir } from '../../test/support/temp-dir';
import { spawnAgent, type RunningAgent } from './agent-process-bench';
import { CHUNK, MiB } from './firmware-update-bench';
import { cpuSeconds, rssBytes, stopChild } from './proc-stats';
import { RomSimProcesses } from './rom-sim-processes';
import type { BenchResult } from './stats';

interface FleetAgent {
  i: number;
  dir: string;
  pty: PtyPair;
  api: AgentClient;
  port: number;
  run: RunningAgent | null;
}

const argValue = (argv: readonly string[], flag: string): number | null => {
  const i = argv.indexOf(flag);
  if (i < 0) return null;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive whole number, got "${argv[i + 1] ?? ''}"`);
  return n;
};

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`fleet bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs `work` over `items` with at most `n` at a time. */
async function inBatches<T>(items: readonly T[], n: number, work: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(work));
}

/**
 * A fleet through one Mosquitto: `agents` real `edge-agent run` processes (generic profile), each with one ESP32
 * (ROM-bootloader simulator on its own PTY) running kitchen-scale 2.4.0; one platform client assigns 2.5.0
 * (`set/firmware`) with ThingsBoard's pacing (queue.core.ota pack-size 100 every pack-interval-ms 60 s: the
 * first pack at once) and serves every chunk request. Reports the time until every gateway's retained
 * firmware/state says UPDATED, and what the broker spent meanwhile. The simulated devices run in child processes
 * of their own (RomSimProcesses), not in the bench's, so a slow device is the machine's load, not the bench's.
 * Flags (after `--`): `--agents N` (default 3, 2 with --quick), `--pack-size N` (100), `--pack-interval-ms N` (60000),
 * `--sims-per-process N` (10).
 */
export async function fleetBench(quick: boolean, argv: readonly string[] = process.argv): Promise<BenchResult[]> {
  if (!hasMosquitto || !hasSocat) return [];
  const n = argValue(argv, '--agents') ?? (quick ? 2 : 3);
  const packSize = argValue(argv, '--pack-size') ?? 100;
  const packIntervalMs = argValue(argv, '--pack-interval-ms') ?? 60_000;
  const simsPerProcess = argValue(argv, '--sims-per-process') ?? 10;
  const size = 256 * 1024;
  const NEW = kitchenScaleImage('2.5.0', size, 5);
  const oldApp = { version: '2.4.0', size, seed: 4 };
  const OLD = kitchenScaleImage(oldApp.version, oldApp.size, oldApp.seed);
  const sims = new RomSimProcesses(simsPerProcess);
  const broker = new Mosquitto(await freePort());
  await broker.start();
  const root = tempDir('edge-fleet-bench-');
  const platform = new OtaServerDouble(broker.url, 'edge/+/firmware');
  platform.package = NEW;
  await platform.start();
  const states = new Map<string, { state: string; at: number; error: string | null }>();
  await platform.watch(['edge/+/firmware/state'], (topic, payload) => {
    const gw = topic.split('/')[1];
    const doc = JSON.parse(payload) as { state: string | null; error: string | null };
    if (doc.state && states.get(gw)?.state !== doc.state) states.set(gw, { state: doc.state, at: Date.now(), error: doc.error });
  });
  const fleet: FleetAgent[] = [];
  const out: BenchResult[] = [];
  try {
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      const dir = path.join(root.dir, `gw-${i}`);
      fs.mkdirSync(dir);
      const pty = new PtyPair(dir);
      await pty.start();
      await sims.plug(i, pty.device, { id: `scale-${i}`, ...oldApp });
      const port = await freePort();
      fs.writeFileSync(
        path.join(dir, 'config.yaml'),
        JSON.stringify({
          gateway: { id: `gw-${i}`, dataDir: path.join(dir, 'data') },
          api: { listen: `127.0.0.1:${port}` },
          upstream: { url: broker.url, profile: 'generic', baseTopic: 'edge', reconnect: { minMs: 200, maxMs: 2000 } },
          devices: [{ id: `scale-${i}`, transport: 'serial', port: pty.gateway, profile: `home-${i}` }],
          firmware: { helloTimeoutS: 30, chunkBytes: CHUNK, maxAttempts: 3, baud: 460800, idleS: 0 },
        }),
      );
      fleet.push({ i, dir, pty, port, api: new AgentClient(`http://127.0.0.1:${port}`, 'the fleet bench'), run: null });
    }
    // started a few at a time: 100 cold starts at once would measure the machine's scheduler, not the fleet
    await inBatches(fleet, 10, async (a) => {
      a.run = await spawnAgent(path.join(a.dir, 'config.yaml'), a.port);
      await sims.powerOn(a.i);
    });
    await inBatches(fleet, 20, (a) =>
      waitFor(`gw-${a.i}'s device on 2.4.0`, async () => {
        const st = await a.api.status().catch(() => null);
        return st?.devices.some((d) => d.fw === '2.4.0' && d.connected) === true;
      }, 120_000),
    );
    const started = Date.now();
    process.stderr.write(`fleet bench: ${n} agents running, devices on 2.4.0 after ${((started - t0) / 1000).toFixed(1)} s\n`);
    out.push({ name: 'fleet.agents', value: n, unit: 'agents' }, { name: 'fleet.start_all', value: +((started - t0) / 1000).toFixed(1), unit: 's' });

    const pid = broker.pid!;
    const cpu0 = cpuSeconds(pid);
    const simCpu0 = sims.cpuSeconds();
    let rssMax = rssBytes(pid);
    const loads: number[] = [];
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, rssBytes(pid));
      loads.push(os.loadavg()[0]);
    }, 500);
    const ann = packageOf(NEW);
    const assign = { title: ann.title, version: ann.version, size: ann.size, checksum: ann.checksum, checksumAlgorithm: ann.checksumAlgorithm };
    const t1 = Date.now();
    try {
      for (let k = 0; k < fleet.length; k += packSize) {
        if (k > 0) await new Promise((r) => setTimeout(r, packIntervalMs));
        await Promise.all(fleet.slice(k, k + packSize).map((a) => platform.publish(`edge/gw-${a.i}/set/firmware`, JSON.stringify(assign))));
      }
      const final = (gw: string): boolean => ['UPDATED', 'FAILED'].includes(states.get(gw)?.state ?? '');
      const progress = setInterval(() => {
        const k = fleet.filter((a) => final(`gw-${a.i}`)).length;
        process.stderr.write(`fleet bench: ${k}/${n} done after ${((Date.now() - t1) / 1000).toFixed(0)} s\n`);
      }, 10_000);
      progress.unref();
      // until every gateway is final, or none moved for 2 minutes (a stall is reported, not waited out)
      let lastMove = Date.now();
      let finals = 0;
      await waitFor('every gateway UPDATED or FAILED', () => {
        const k = fleet.filter((a) => final(`gw-${a.i}`)).length;
        if (k !== finals) [finals, lastMove] = [k, Date.now()];
        return k === n || Date.now() - lastMove > 120_000;
      }, 60_000 + n * 15_000);
      clearInterval(progress);
      for (const a of fleet.filter((x) => !final(`gw-${x.i}`))) {
        const journal = path.join(a.dir, 'data', 'firmware', 'rollout.json');
        const d = fs.existsSync(journal) ? (JSON.parse(fs.readFileSync(journal, 'utf8')) as Rollout).devices[0] : undefined;
        process.stderr.write(`fleet bench: gw-${a.i} stalled: ${JSON.stringify({ published: states.get(`gw-${a.i}`) ?? null, journal: d ?? null })}\n`);
      }
    } finally {
      clearInterval(sampler);
    }
    const stalled = fleet.filter((a) => !['UPDATED', 'FAILED'].includes(states.get(`gw-${a.i}`)?.state ?? '')).length;
    const done = Math.max(...fleet.map((a) => states.get(`gw-${a.i}`)?.at ?? 0));
    const seconds = (done - t1) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const updated = fleet.filter((a) => states.get(`gw-${a.i}`)?.state === 'UPDATED').length;
    for (const [gw, st] of states) if (st.state === 'FAILED') process.stderr.write(`fleet bench: ${gw} FAILED: ${st.error}\n`);
    const sha = (img: Buffer): string => createHash('sha256').update(img).digest('hex');
    const [newSha, oldSha] = await Promise.all(
      [NEW, OLD].map((img) => Promise.all(fleet.map((a) => sims.appSha256(a.i, img.length)))),
    );
    const holds = (a: FleetAgent, img: Buffer): boolean => (img === NEW ? newSha : oldSha)[a.i] === sha(img);
    const flashed = fleet.filter((a) => holds(a, NEW)).length;
    // a device left with neither its old nor the new image
    const bricked = fleet.filter((a) => !holds(a, NEW) && !holds(a, OLD)).length;
    const simCpu = sims.cpuSeconds() - simCpu0;
    const devStats = await Promise.all(fleet.map((a) => sims.stats(a.i)));
    for (const a of fleet.filter((x) => devStats[x.i].flashBegins !== 1))
      process.stderr.write(`fleet bench: gw-${a.i}'s device had ${devStats[a.i].flashBegins} flash writes begun\n`);
    out.push(
      { name: 'fleet.time_to_all_updated', value: +seconds.toFixed(1), unit: 's' },
      { name: 'fleet.updated', value: updated, unit: 'gateways', target: `${n}` },
      { name: 'fleet.devices_holding_new_image', value: flashed, unit: 'devices', target: `${n}` },
      { name: 'fleet.bricked', value: bricked, unit: 'devices', target: '0' },
      { name: 'fleet.stalled', value: stalled, unit: 'gateways', target: '0', peer: 'no final state, nothing moved for 2 min' },
      { name: 'fleet.broker_cpu', value: +((100 * cpu) / seconds).toFixed(1), unit: '% of a core' },
      { name: 'fleet.broker_cpu_seconds', value: +cpu.toFixed(2), unit: 's' },
      { name: 'fleet.broker_rss_max', value: +(rssMax / MiB).toFixed(1), unit: 'MiB' },
      { name: 'fleet.chunk_requests', value: platform.requests.length, unit: 'requests' },
      { name: 'fleet.bytes_served', value: +(platform.bytesServed / MiB).toFixed(1), unit: 'MiB' },
      { name: 'fleet.broker_throughput', value: +(platform.bytesServed / MiB / seconds).toFixed(2), unit: 'MB/s' },
      { name: 'fleet.load_average_1m', value: +(loads.reduce((x, y) => x + y, 0) / Math.max(1, loads.length)).toFixed(1), unit: 'mean', peer: `max ${Math.max(0, ...loads).toFixed(1)} on ${os.cpus().length} cores` },
      { name: 'fleet.flash_writes', value: devStats.reduce((n, d) => n + d.flashBegins, 0), unit: 'tries', target: `${n}`, peer: 'write sessions begun: tries of the new image and rollbacks' },
      { name: 'fleet.blocks_taken_twice', value: devStats.reduce((n, d) => n + d.blocksTakenTwice, 0), unit: 'blocks', target: '0' },
      { name: 'fleet.device_sim_cpu_seconds', value: +simCpu.toFixed(1), unit: 's', peer: `${sims.processes} simulator process(es) of up to ${simsPerProcess} devices` },
    );
    return out;
  } finally {
    await Promise.all(fleet.map(async (a) => a.run && stopChild(a.run.child)));
    await sims.stop();
    await Promise.all(fleet.map((a) => a.pty.stop()));
    await platform.stop();
    await broker.dispose();
    root.cleanup();
  }
}
