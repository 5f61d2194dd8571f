import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { EspDeviceLink } from '../../agent/firmware-update/esp-device-link';
import type { FirmwarePackage } from '../../agent/firmware-update/firmware-package';
import { DEFAULT_CHUNK_BYTES } from '../../agent/firmware-update/chunk-size';
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
import { APP_ADDRESS, kitchenScaleImage, packageOf } from '../../test/support/firmware-packages';
import { freePort } from '../../test/support/free-port';
import { Mosquitto, hasMosquitto } from '../../test/support/mosquitto';
import { OtaServerDouble } from '../../test/support/ota-server-double';
import { PtyPair, hasSocat } from '../../test/support/pty-pair';
import { TcpProxy } from '../../test/support/tcp-proxy';
import { tempDir } from '../../test/support/temp-dir';
import type { BenchResult } from './stats';

export const MiB = 1024 * 1024;
/**
 * the chunk size of the generic profile's downloads measured here and in the fleet bench (its firmware.chunkBytes
 * default); the ThingsBoard profile's default is measured too, through a broker that sends as ThingsBoard does
 */
export const CHUNK: number = DEFAULT_CHUNK_BYTES.generic;
/** ThingsBoard's default chunk size; in flight at once: what the store's 1 MiB bound on unrecorded bytes allows */
const TB_CHUNK: number = DEFAULT_CHUNK_BYTES.thingsboard;
const TB_WINDOW = Math.min(DOWNLOAD_WINDOW, DOWNLOAD_MAX_UNRECORDED_BYTES / TB_CHUNK);

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
 * Timed like the download: from the subscription to the answers (the download subscribes when it attaches) to the
 * last answer; same chunk size, same window, same platform double on the same event loop.
 */
async function chunkedLinkMBps(url: string, bytes: Buffer, window: number, chunk = CHUNK): Promise<number> {
  const server = new OtaServerDouble(url, 'edge/gw-link/firmware');
  server.package = bytes;
  await server.start();
  const c = await connect(url, 'gw-link');
  try {
    const topics = genericOtaTopics('edge', 'gw-link');
    const t0 = process.hrtime.bigint();
    await c.subscribeAsync(topics.responseFilter, { qos: 1 });
    const n = Math.ceil(bytes.length / chunk);
    let next = 0;
    let got = 0;
    const ask = (): void => {
      if (next < n) c.publish(topics.request(1, next++), String(chunk), { qos: 1 });
    };
    const done = new Promise<void>((resolve) =>
      c.on('message', () => {
        if (++got === n) resolve();
        else ask();
      }),
    );
    for (let i = 0; i < window; i++) ask();
    await done;
    return bytes.length / MiB / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await c.endAsync(true);
    await server.stop();
  }
}

/**
 * The agent's download path: PackageDownloader into the durable store on the real disk, against the platform.
 * MB/s until the package is VERIFIED (every byte durable, checksum and image checks passed, renamed into place),
 * and until it is DOWNLOADED as ThingsBoard's states put it (the last chunk written, before the checks).
 */
async function downloadMBps(
  url: string,
  bytes: Buffer,
  opts: { maxUnrecordedBytes: number; chunkBytes?: number },
): Promise<{ verified: number; downloaded: number; endMs: number }> {
  const t = tempDir('edge-ota-bench-');
  const server = new OtaServerDouble(url, 'edge/gw-bench/firmware');
  server.package = bytes;
  await server.start();
  const store = new PackageDownloadStore(path.join(t.dir, 'firmware'), 8 * MiB, DOWNLOAD_SYNC_BYTES, opts.maxUnrecordedBytes);
  let lastChunk = 0n;
  const d = new PackageDownloader(store, genericOtaTopics('edge', 'gw-bench'), announcement(bytes), {
    chunkBytes: opts.chunkBytes ?? CHUNK,
    onProgress: (done, total) => {
      if (done === total) lastChunk = process.hrtime.bigint();
    },
  });
  const c = await connect(url, 'gw-bench');
  try {
    const t0 = process.hrtime.bigint();
    d.attach(c);
    await d.done;
    const end = process.hrtime.bigint();
    const mbps = (until: bigint): number => bytes.length / MiB / (Number(until - t0) / 1e9);
    return { verified: mbps(end), downloaded: mbps(lastChunk), endMs: Number(end - lastChunk) / 1e6 };
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
  sim.flash.set(image('2.4.0', size, 1), APP_ADDRESS);
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
 * The ThingsBoard profile's chunk size (64 KiB, 16 in flight) against the generic one's (16 KiB, 32 in flight),
 * alternating, through a Mosquitto with `set_tcp_nodelay` (ThingsBoard's Netty sockets send without Nagle's delay;
 * a Mosquitto as it comes holds 64 KiB answers ~40 ms each: docs/firmware-updates.md §9): the chunked link and the
 * download into the store, each against the chunked link at its size measured right before it.
 */
async function thingsboardChunkBench(bytes: Buffer, runs: number): Promise<BenchResult[]> {
  const broker = new Mosquitto(await freePort(), { tcpNoDelay: true });
  await broker.start();
  const load = (): string => os.loadavg()[0].toFixed(1);
  const loadBefore = load();
  const size = { small: { link: [] as number[], download: [] as number[] }, large: { link: [] as number[], download: [] as number[] } };
  try {
    for (let i = 0; i < runs; i++) {
      size.small.link.push(await chunkedLinkMBps(broker.url, bytes, DOWNLOAD_WINDOW, CHUNK));
      size.large.link.push(await chunkedLinkMBps(broker.url, bytes, TB_WINDOW, TB_CHUNK));
      const common = { maxUnrecordedBytes: DOWNLOAD_MAX_UNRECORDED_BYTES };
      size.small.download.push((await downloadMBps(broker.url, bytes, { ...common, chunkBytes: CHUNK })).verified);
      size.large.download.push((await downloadMBps(broker.url, bytes, { ...common, chunkBytes: TB_CHUNK })).verified);
    }
  } finally {
    await broker.dispose();
  }
  const ms = (mbps: number[]): string => `1 MB in ${((1000 * bytes.length) / MiB / median(mbps)).toFixed(2)} ms (median)`;
  const vs = (s: { link: number[]; download: number[] }): number[] => s.download.map((d, i) => (100 * d) / s.link[i]);
  return [
    { name: 'ota.nodelay.link_chunked_16k', value: +median(size.small.link).toFixed(1), unit: 'MB/s', peer: `16 KiB x ${DOWNLOAD_WINDOW} in flight, broker with TCP_NODELAY; ${ms(size.small.link)}; ${spread(size.small.link)}` },
    { name: 'ota.nodelay.link_chunked_64k', value: +median(size.large.link).toFixed(1), unit: 'MB/s', peer: `64 KiB x ${TB_WINDOW} in flight; ${ms(size.large.link)}; ${spread(size.large.link)}` },
    { name: 'ota.nodelay.download_1mb_16k', value: +median(size.small.download).toFixed(1), unit: 'MB/s', peer: `to VERIFIED; ${ms(size.small.download)}; ${spread(size.small.download)}` },
    { name: 'ota.nodelay.download_1mb_64k', value: +median(size.large.download).toFixed(1), unit: 'MB/s', peer: `to VERIFIED, the ThingsBoard profile's default; ${ms(size.large.download)}; ${spread(size.large.download)}` },
    { name: 'ota.nodelay.download_64k_vs_16k', value: Math.round((100 * median(size.large.download)) / median(size.small.download)), unit: '%', peer: `medians; load average ${loadBefore} -> ${load()}` },
    { name: 'ota.nodelay.download_64k_vs_chunked_link', value: Math.round(median(vs(size.large))), unit: '%', peer: `per run ${spread(vs(size.large), 0)}; 16 KiB: ${Math.round(median(vs(size.small)))} %` },
  ];
}

/** A gateway's uplink to its platform: 100 Mbit/s each way, 10 ms each way (20 ms round trip). */
const HOME_LINK = { bytesPerSecond: 12_500_000, latencyMs: 10 };

/**
 * The same comparison through a link shaped like a gateway's uplink (HOME_LINK, a TcpProxy between the clients
 * and the broker) instead of loopback, where the link moves 1 MB in 2-4 ms and a download's fixed costs (two
 * fsyncs, the checks) weigh as much as the transfer. Both chunk sizes, each through its own broker as above.
 */
async function shapedLinkBench(bytes: Buffer, runs: number): Promise<BenchResult[]> {
  const plain = new Mosquitto(await freePort());
  const nodelay = new Mosquitto(await freePort(), { tcpNoDelay: true });
  await plain.start();
  await nodelay.start();
  const shaped = async (broker: Mosquitto): Promise<TcpProxy> => {
    const p = Object.assign(new TcpProxy(await freePort(), broker.port), HOME_LINK);
    await p.open();
    return p;
  };
  const [small, large] = [await shaped(plain), await shaped(nodelay)];
  const r = { small: { link: [] as number[], download: [] as number[] }, large: { link: [] as number[], download: [] as number[] } };
  try {
    for (let i = 0; i < runs; i++) {
      const common = { maxUnrecordedBytes: DOWNLOAD_MAX_UNRECORDED_BYTES };
      r.small.link.push(await chunkedLinkMBps(small.url, bytes, DOWNLOAD_WINDOW, CHUNK));
      r.small.download.push((await downloadMBps(small.url, bytes, { ...common, chunkBytes: CHUNK })).verified);
      r.large.link.push(await chunkedLinkMBps(large.url, bytes, TB_WINDOW, TB_CHUNK));
      r.large.download.push((await downloadMBps(large.url, bytes, { ...common, chunkBytes: TB_CHUNK })).verified);
    }
  } finally {
    await small.close();
    await large.close();
    await plain.dispose();
    await nodelay.dispose();
  }
  const line = `${(HOME_LINK.bytesPerSecond * 8) / 1e6} Mbit/s, ${2 * HOME_LINK.latencyMs} ms round trip`;
  const vs = (x: { link: number[]; download: number[] }): number[] => x.download.map((d, i) => (100 * d) / x.link[i]);
  return [
    { name: 'ota.home_link.link_chunked_16k', value: +median(r.small.link).toFixed(2), unit: 'MB/s', peer: `${line}; ${spread(r.small.link, 2)}` },
    { name: 'ota.home_link.download_16k', value: +median(r.small.download).toFixed(2), unit: 'MB/s', peer: `to VERIFIED; ${spread(r.small.download, 2)}` },
    { name: 'ota.home_link.download_16k_vs_link', value: Math.round(median(vs(r.small))), unit: '%', target: '>= 50', peer: `per run ${spread(vs(r.small), 0)}` },
    { name: 'ota.home_link.link_chunked_64k', value: +median(r.large.link).toFixed(2), unit: 'MB/s', peer: `broker with TCP_NODELAY; ${spread(r.large.link, 2)}` },
    { name: 'ota.home_link.download_64k', value: +median(r.large.download).toFixed(2), unit: 'MB/s', peer: `to VERIFIED; ${spread(r.large.download, 2)}` },
    { name: 'ota.home_link.download_64k_vs_link', value: Math.round(median(vs(r.large))), unit: '%', target: '>= 50', peer: `per run ${spread(vs(r.large), 0)}` },
  ];
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
  // the machine is shared: single downloads of ~5-15 ms vary 5x with other work, so many interleaved runs (each
  // run is ~50 ms: 21 of them cost ~1 s)
  const runs = quick ? 1 : 21;
  const load = (): string => os.loadavg()[0].toFixed(1);
  const loadBefore = load();
  const out: BenchResult[] = [];
  try {
    const link: number[] = [];
    const chunked: number[] = [];
    const download: number[] = [];
    const downloaded: number[] = [];
    const endMs: number[] = [];
    const tight: number[] = [];
    // interleaved, so a busy moment of the machine hits every variant alike
    for (let i = 0; i < runs; i++) {
      link.push(await linkMBps(broker.url, size));
      chunked.push(await chunkedLinkMBps(broker.url, bytes, DOWNLOAD_WINDOW));
      const one = await downloadMBps(broker.url, bytes, { maxUnrecordedBytes: DOWNLOAD_MAX_UNRECORDED_BYTES });
      download.push(one.verified);
      downloaded.push(one.downloaded);
      endMs.push(one.endMs);
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
      { name: 'ota.download_1mb_end', value: +median(endMs).toFixed(2), unit: 'ms', peer: `last chunk written -> VERIFIED (fsync, checks, renames); ${spread(endMs, 2)}` },
      { name: 'ota.downloaded_vs_chunked_link', value: Math.round(median(downloadedVsChunked)), unit: '%', peer: `per run ${spread(downloadedVsChunked, 0)}` },
      { name: 'ota.download_vs_chunked_link', value: Math.round(median(vsChunked)), unit: '%', target: '>= 50', peer: `per run ${spread(vsChunked, 0)}; load average ${loadBefore} -> ${load()}` },
      { name: 'ota.download_vs_stream_link', value: Math.round(median(vsStream)), unit: '%', peer: `per run ${spread(vsStream, 0)}` },
      { name: 'ota.download_1mb.bound_512k', value: +median(tight).toFixed(1), unit: 'MB/s', peer: `at most 512 KiB unrecorded; ${spread(tight)}` },
    );
  } finally {
    await broker.dispose();
  }
  out.push(...(await thingsboardChunkBench(bytes, runs)));
  out.push(...(await shapedLinkBench(bytes, quick ? 1 : 7)));
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
