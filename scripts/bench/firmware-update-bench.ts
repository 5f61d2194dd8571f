import * as fs from 'node:fs';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { AgentClient } from '../../agent/cli/api-client';
import { EspDeviceLink } from '../../agent/firmware-update/esp-device-link';
import type { FirmwarePackage } from '../../agent/firmware-update/firmware-package';
import { FirmwareUpdates } from '../../agent/firmware-update/firmware-updates';
import { genericOtaTopics } from '../../agent/firmware-update/ota-topics';
import { DOWNLOAD_WINDOW, PackageDownloader } from '../../agent/firmware-update/package-downloader';
import {
  DOWNLOAD_MAX_UNRECORDED_BYTES,
  DOWNLOAD_SYNC_BYTES,
  PackageDownloadStore,
} from '../../agent/firmware-update/package-download-store';
import type { Rollout } from '../../agent/firmware-update/rollout-plan';
import { DEFAULT_BAUD } from '../../drivers/serial/baud';
import { Esp32RomSimulator } from '../../test/support/esp-rom-sim';
import { kitchenScaleImage, packageOf } from '../../test/support/firmware-packages';
import { freePort } from '../../test/support/free-port';
import { Mosquitto, hasMosquitto } from '../../test/support/mosquitto';
import { OtaServerDouble } from '../../test/support/ota-server-double';
import { PtyPair, hasSocat } from '../../test/support/pty-pair';
import { tempDir } from '../../test/support/temp-dir';
import { spawnAgent, type RunningAgent } from './agent-process-bench';
import { cpuSeconds, rssBytes, stopChild } from './proc-stats';
import type { BenchResult } from './stats';

const MiB = 1024 * 1024;
const CHUNK = 16 * 1024;
const APP = 0x10000;

const image = kitchenScaleImage;
const announcement = (bytes: Buffer): FirmwarePackage => packageOf(bytes);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[], digits = 1): string =>
  `${xs.length} runs ${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

async function connect(url: string, id: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId: id, reconnectPeriod: 100 });
  c.on('error', () => {});
  await new Promise<void>((resolve) => c.once('connect', () => resolve()));
  return c;
}

/**
 * What the broker link carries: `bytes` as QoS 1 messages of one chunk each, all published at once from one
 * client to another through the broker, no disk. The ceiling a download could reach over the same path.
 */
async function linkMBps(url: string, bytes: number): Promise<number> {
  const [pub, sub] = [await connect(url, 'link-pub'), await connect(url, 'link-sub')];
  try {
    await sub.subscribeAsync('bench/link/+', { qos: 1 });
    const n = Math.ceil(bytes / CHUNK);
    const payload = Buffer.alloc(CHUNK, 0x5a);
    let got = 0;
    const done = new Promise<void>((resolve) =>
      sub.on('message', () => {
        if (++got === n) resolve();
      }),
    );
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) pub.publish(`bench/link/${i}`, payload, { qos: 1 });
    await done;
    return bytes / MiB / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await pub.endAsync(true);
    await sub.endAsync(true);
  }
}

/**
 * The same chunk protocol over the same broker with nothing behind it: `window` requests in flight, each answer
 * counted and dropped (no disk, no checks). What the link gives a chunked download; the download's own ceiling.
 */
async function chunkedLinkMBps(url: string, bytes: Buffer, window: number): Promise<number> {
  const server = new OtaServerDouble(url, 'edge/gw-link/firmware');
  server.package = bytes;
  await server.start();
  const c = await connect(url, 'gw-link');
  try {
    const topics = genericOtaTopics('edge', 'gw-link');
    await c.subscribeAsync(topics.responseFilter, { qos: 1 });
    const n = Math.ceil(bytes.length / CHUNK);
    let next = 0;
    let got = 0;
    const ask = (): void => {
      if (next < n) c.publish(topics.request(1, next++), String(CHUNK), { qos: 1 });
    };
    const done = new Promise<void>((resolve) =>
      c.on('message', () => {
        if (++got === n) resolve();
        else ask();
      }),
    );
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < window; i++) ask();
    await done;
    return bytes.length / MiB / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await c.endAsync(true);
    await server.stop();
  }
}

/** The agent's download path: PackageDownloader into the durable store on the real disk, against the platform. */
/**
 * MB/s until the package is VERIFIED (every byte durable, checksum and image checks passed, renamed into place),
 * and until it is DOWNLOADED as ThingsBoard's states put it (the last chunk written, before the checks).
 */
async function downloadMBps(
  url: string,
  bytes: Buffer,
  opts: { maxUnrecordedBytes: number },
): Promise<{ verified: number; downloaded: number }> {
  const t = tempDir('edge-ota-bench-');
  const server = new OtaServerDouble(url, 'edge/gw-bench/firmware');
  server.package = bytes;
  await server.start();
  const store = new PackageDownloadStore(path.join(t.dir, 'firmware'), 8 * MiB, DOWNLOAD_SYNC_BYTES, opts.maxUnrecordedBytes);
  let lastChunk = 0n;
  const d = new PackageDownloader(store, genericOtaTopics('edge', 'gw-bench'), announcement(bytes), {
    chunkBytes: CHUNK,
    onProgress: (done, total) => {
      if (done === total) lastChunk = process.hrtime.bigint();
    },
  });
  const c = await connect(url, 'gw-bench');
  try {
    const t0 = process.hrtime.bigint();
    d.attach(c);
    await d.done;
    const mbps = (until: bigint): number => bytes.length / MiB / (Number(until - t0) / 1e9);
    return { verified: mbps(process.hrtime.bigint()), downloaded: mbps(lastChunk) };
  } finally {
    await c.endAsync(true);
    await server.stop();
    t.cleanup();
  }
}

/**
 * One device updated by the rollout executor as the agent does it, on the ROM-bootloader simulator over a PTY:
 * backup read back from flash, the app written (compressed, MD5-verified) at `baud`, the new firmware's hello.
 * Seconds per step from the journal's step changes.
 */
async function deviceUpdateSeconds(size: number): Promise<{ backup: number; flashVerifyHello: number; total: number }> {
  const t = tempDir('edge-ota-bench-');
  const pty = new PtyPair(t.dir);
  await pty.start();
  const sim = new Esp32RomSimulator({ autoReset: true });
  sim.flash.set(image('2.4.0', size, 1), APP);
  await sim.attach(pty.device);
  try {
    const fw = new FirmwareUpdates(path.join(t.dir, 'data'));
    const file = path.join(t.dir, 'new.bin');
    fs.writeFileSync(file, image('2.5.0', size, 2));
    fw.importPackage(file);
    const facts = [{ id: 'scale-7', model: 'kitchen-scale', fw: '2.4.0', connected: true, idle: true, doNotUpdate: false, deferredUntil: null }];
    const p = fw.plan(facts, Date.now())!;
    const at: Record<string, number> = {};
    const exec = fw.executor(
      { open: async () => new EspDeviceLink({ port: pty.gateway, baud: 460800, appBaud: DEFAULT_BAUD }) },
      (r: Rollout) => {
        const step = r.devices[0]?.step;
        if (step && at[step] === undefined) at[step] = performance.now();
      },
    );
    const t0 = performance.now();
    const after = await exec.update(p.rollout, 'scale-7');
    const end = performance.now();
    if (after.devices[0]?.state !== 'UPDATED') throw new Error(`update bench: ${JSON.stringify(after.devices[0])}`);
    return { backup: (at.flashing - t0) / 1000, flashVerifyHello: (end - at.flashing) / 1000, total: (end - t0) / 1000 };
  } finally {
    await sim.detach();
    await pty.stop();
    t.cleanup();
  }
}

/**
 * Firmware download throughput against the broker link (docs/firmware-updates.md §4) and the time to update one
 * device with a 1 MB image at 460,800 baud on the ROM-bootloader simulator.
 */
export async function otaBench(quick: boolean): Promise<BenchResult[]> {
  if (!hasMosquitto) return [];
  const size = MiB;
  const bytes = image('2.5.0', size, 3);
  const broker = new Mosquitto(await freePort());
  await broker.start();
  // the machine is shared: single downloads of ~15 ms vary 5x with other work, so many interleaved runs
  const runs = quick ? 1 : 11;
  const out: BenchResult[] = [];
  try {
    const link: number[] = [];
    const chunked: number[] = [];
    const download: number[] = [];
    const downloaded: number[] = [];
    const tight: number[] = [];
    // interleaved, so a busy moment of the machine hits every variant alike
    for (let i = 0; i < runs; i++) {
      link.push(await linkMBps(broker.url, size));
      chunked.push(await chunkedLinkMBps(broker.url, bytes, DOWNLOAD_WINDOW));
      const one = await downloadMBps(broker.url, bytes, { maxUnrecordedBytes: DOWNLOAD_MAX_UNRECORDED_BYTES });
      download.push(one.verified);
      downloaded.push(one.downloaded);
      if (i < 5) tight.push((await downloadMBps(broker.url, bytes, { maxUnrecordedBytes: 2 * DOWNLOAD_SYNC_BYTES })).verified);
    }
    // each download against the link measured right before it (same moment of the machine)
    const vsChunked = download.map((d, i) => (100 * d) / chunked[i]);
    const downloadedVsChunked = downloaded.map((d, i) => (100 * d) / chunked[i]);
    const vsStream = download.map((d, i) => (100 * d) / link[i]);
    out.push(
      { name: 'ota.link_stream_1mb', value: +median(link).toFixed(1), unit: 'MB/s', peer: `16 KiB QoS 1 messages streamed, no protocol; ${spread(link)}` },
      { name: 'ota.link_chunked_1mb', value: +median(chunked).toFixed(1), unit: 'MB/s', peer: `chunk requests, ${DOWNLOAD_WINDOW} in flight, no disk; ${spread(chunked)}` },
      { name: 'ota.download_1mb', value: +median(download).toFixed(1), unit: 'MB/s', target: '>= 50 % of the link', peer: `to VERIFIED (durable, checked); ${spread(download)}` },
      { name: 'ota.download_1mb_to_downloaded', value: +median(downloaded).toFixed(1), unit: 'MB/s', peer: `to DOWNLOADED (last chunk written); ${spread(downloaded)}` },
      { name: 'ota.downloaded_vs_chunked_link', value: Math.round(median(downloadedVsChunked)), unit: '%', peer: `per run ${spread(downloadedVsChunked, 0)}` },
      { name: 'ota.download_vs_chunked_link', value: Math.round(median(vsChunked)), unit: '%', target: '>= 50', peer: `per run ${spread(vsChunked, 0)}` },
      { name: 'ota.download_vs_stream_link', value: Math.round(median(vsStream)), unit: '%', peer: `per run ${spread(vsStream, 0)}` },
      { name: 'ota.download_1mb.bound_512k', value: +median(tight).toFixed(1), unit: 'MB/s', peer: `at most 512 KiB unrecorded; ${spread(tight)}` },
    );
  } finally {
    await broker.dispose();
  }
  if (hasSocat) {
    const u = await deviceUpdateSeconds(size);
    out.push(
      { name: 'ota.device_backup_readback_1mb', value: +u.backup.toFixed(2), unit: 's' },
      { name: 'ota.device_flash_verify_hello_1mb', value: +u.flashVerifyHello.toFixed(2), unit: 's', target: '< 30' },
      { name: 'ota.device_update_total_1mb', value: +u.total.toFixed(2), unit: 's' },
    );
  }
  return out;
}

interface FleetAgent {
  i: number;
  dir: string;
  pty: PtyPair;
  sim: Esp32RomSimulator;
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
 * firmware/state says UPDATED, and what the broker spent meanwhile.
 * Flags (after `--`): `--agents N` (default 3, 2 with --quick), `--pack-size N` (100), `--pack-interval-ms N` (60000).
 */
export async function fleetBench(quick: boolean, argv: readonly string[] = process.argv): Promise<BenchResult[]> {
  if (!hasMosquitto || !hasSocat) return [];
  const n = argValue(argv, '--agents') ?? (quick ? 2 : 3);
  const packSize = argValue(argv, '--pack-size') ?? 100;
  const packIntervalMs = argValue(argv, '--pack-interval-ms') ?? 60_000;
  const size = 256 * 1024;
  const NEW = image('2.5.0', size, 5);
  const OLD = image('2.4.0', size, 4);
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
      const sim = new Esp32RomSimulator({ autoReset: true, app: { id: `scale-${i}`, model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }] } });
      sim.flash.set(OLD, APP);
      await sim.attach(pty.device);
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
      fleet.push({ i, dir, pty, sim, port, api: new AgentClient(`http://127.0.0.1:${port}`, 'the fleet bench'), run: null });
    }
    // started a few at a time: 100 cold starts at once would measure the machine's scheduler, not the fleet
    await inBatches(fleet, 10, async (a) => {
      a.run = await spawnAgent(path.join(a.dir, 'config.yaml'), a.port);
      a.sim.powerOn();
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
    let rssMax = rssBytes(pid);
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(pid))), 500);
    const ann = announcement(NEW);
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
    const holds = (a: FleetAgent, img: Buffer): boolean => Buffer.compare(Buffer.from(a.sim.flash.subarray(APP, APP + img.length)), img) === 0;
    const flashed = fleet.filter((a) => holds(a, NEW)).length;
    // a device left with neither its old nor the new image
    const bricked = fleet.filter((a) => !holds(a, NEW) && !holds(a, OLD)).length;
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
    );
    return out;
  } finally {
    await Promise.all(
      fleet.map(async (a) => {
        if (a.run) await stopChild(a.run.child);
        await a.sim.detach();
        await a.pty.stop();
      }),
    );
    await platform.stop();
    await broker.dispose();
    root.cleanup();
  }
}
