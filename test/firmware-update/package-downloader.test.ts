import * as fs from 'node:fs';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { genericOtaTopics, thingsboardOtaTopics } from '../../agent/firmware-update/ota-topics';
import { PackageDownloader } from '../../agent/firmware-update/package-downloader';
import { DownloadFailure } from '../../agent/firmware-update/download-failure';
import { PackageDownloadStore } from '../../agent/firmware-update/package-download-store';
import { DEFAULT_CHUNK_BYTES } from '../../agent/firmware-update/chunk-size';
import { kitchenScaleImage, packageOf } from '../support/firmware-packages';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { OtaServerDouble } from '../support/ota-server-double';
import { connectGateway } from '../support/gateway-connection';
import { thingsboardDoubleFixture } from '../support/thingsboard-double/jest-fixture';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const image = kitchenScaleImage('2.5.0', 1024 * 1024 - 4096);
const pkgOf = packageOf;
const CHUNK = 16 * 1024;
const KIB64 = DEFAULT_CHUNK_BYTES.thingsboard;

/** The progress record on disk, as a restarted agent reads it. */
function recordedProgress(dir: string): { chunks: number; bytes: number; chunkBytes?: number } {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'download', 'progress.json'), 'utf8')) as { chunks: number; bytes: number };
  } catch {
    return { chunks: 0, bytes: 0 };
  }
}

(hasMosquitto ? describe : describe.skip)(
  'PackageDownloader against an OTA-speaking double on a real Mosquitto',
  () => {
    let t: ReturnType<typeof tempDir>;
    let broker: Mosquitto;
    let server: OtaServerDouble;
    const clients: MqttClient[] = [];

    beforeEach(async () => {
      t = tempDir('edge-fw-dl-');
      broker = new Mosquitto(await freePort());
      await broker.start();
    });
    afterEach(async () => {
      await server?.stop();
      for (const c of clients.splice(0)) await c.endAsync(true);
      await broker.dispose();
      t.cleanup();
    });

    /** A gateway connection that re-attaches the downloader after every reconnect, as the agent's sync does. */
    async function gateway(d: PackageDownloader): Promise<MqttClient> {
      const c = mqtt.connect(broker.url, {
        clientId: `gw-${Math.random().toString(36).slice(2, 8)}`,
        reconnectPeriod: 100,
        connectTimeout: 2000,
      });
      c.on('error', () => {});
      c.on('connect', () => d.attach(c));
      c.on('close', () => d.detach());
      clients.push(c);
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      return c;
    }

    async function serve(prefix: string, bytes: Buffer, maxPayloadBytes?: number): Promise<void> {
      server = new OtaServerDouble(broker.url, prefix, maxPayloadBytes);
      server.package = bytes;
      await server.start();
    }

    it('downloads a 1 MB package through ThingsBoard topics with chunk requests pipelined, and verifies it', async () => {
      await serve('v2/fw', image);
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
      const progress: number[] = [];
      const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), {
        chunkBytes: CHUNK,
        onProgress: (b) => progress.push(b),
      });
      await gateway(d);
      const v = await d.done;
      expect(Buffer.compare(v.image, image)).toBe(0);
      const chunks = Math.ceil(image.length / CHUNK);
      expect(progress).toHaveLength(chunks);
      expect(progress.at(-1)).toBe(image.length);
      // every request carried the chunk size, and each chunk was asked for once (no loss here)
      expect(server.requests.every((r) => r.size === CHUNK)).toBe(true);
      expect(new Set(server.requests.map((r) => r.chunk)).size).toBe(chunks);
      expect(d.counts.requested).toBe(chunks);
    }, 30_000);

    it('never has more than the store bound written but unrecorded: chunks wait for the disk, not the event loop', async () => {
      await serve('v2/fw', image);
      const dir = path.join(t.dir, 'fw');
      // a background sync from every chunk, at most 4 chunks unrecorded (a disk far slower than the link)
      const store = new PackageDownloadStore(dir, 8 * 1024 * 1024, CHUNK);
      const recordedOnDisk = (): number => {
        try {
          return (JSON.parse(fs.readFileSync(path.join(dir, 'download', 'progress.json'), 'utf8')) as { bytes: number }).bytes;
        } catch {
          return 0;
        }
      };
      let worst = 0;
      const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), {
        chunkBytes: CHUNK,
        onProgress: (bytes, total) => {
          if (bytes < total) worst = Math.max(worst, bytes - recordedOnDisk());
        },
      });
      await gateway(d);
      const v = await d.done;
      expect(Buffer.compare(v.image, image)).toBe(0);
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(4 * CHUNK);
      expect(store.synchronousSyncs).toBe(0); // the downloader held back; append never had to stop for the disk
    }, 30_000);

    it('requests lost chunks again and still writes them in order (generic topics)', async () => {
      const topics = genericOtaTopics('edge', 'gw-1');
      await serve('edge/gw-1/firmware', image);
      server.dropOnce.add(0).add(3).add(17);
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
      const d = new PackageDownloader(store, topics, pkgOf(image), {
        chunkBytes: CHUNK,
        chunkTimeoutMs: 300,
      });
      await gateway(d);
      const v = await d.done;
      expect(Buffer.compare(v.image, image)).toBe(0);
      expect(d.counts.rerequested).toBeGreaterThanOrEqual(3);
      expect(server.requests.filter((r) => r.chunk === 17).length).toBeGreaterThanOrEqual(2);
    }, 30_000);

    it('a wrong checksum fails the download with the reason and keeps nothing', async () => {
      await serve('v2/fw', image);
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
      const d = new PackageDownloader(
        store,
        thingsboardOtaTopics,
        pkgOf(image, { checksum: 'f'.repeat(64) }),
        { chunkBytes: CHUNK },
      );
      await gateway(d);
      await expect(d.done).rejects.toThrow(
        /checksum mismatch: SHA256 of the download is [0-9a-f]{64}, the package says f{64}/,
      );
      expect(store.usedBytes()).toBe(0);
    }, 30_000);

    it('a package shorter on the server than announced fails at the short chunk', async () => {
      await serve('v2/fw', image.subarray(0, 100_000));
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
      const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), { chunkBytes: CHUNK });
      await gateway(d);
      await expect(d.done).rejects.toThrow(/chunk 6 has 1696 bytes, expected 16384/);
      expect(store.current()).toBeNull();
    }, 30_000);

    it.each(['error', 'empty', 'silence'] as const)(
      'a platform that refuses 64 KiB (%s) is asked with 32 KiB and the download finishes (generic topics)',
      async (refusal) => {
        await serve('edge/gw-1/firmware', image, 32 * 1024);
        server.server.refusal = refusal;
        const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
        const d = new PackageDownloader(store, genericOtaTopics('edge', 'gw-1'), pkgOf(image), {
          chunkBytes: KIB64,
          chunkTimeoutMs: 300,
        });
        await gateway(d);
        const v = await d.done;
        expect(Buffer.compare(v.image, image)).toBe(0);
        // once: the refusals of the other 64 KiB requests in flight (a broker keeps the connection) do not halve again
        expect(d.refusedSizes).toEqual([KIB64]);
        const small = server.requests.filter((r) => r.size === 32 * 1024);
        expect(new Set(small.map((r) => r.chunk)).size).toBe(Math.ceil(image.length / (32 * 1024)));
      },
      30_000,
    );

    it("a server whose limit is below 16 KiB: 64, 32, 16 KiB refused, then FAILED with the fix, the bytes kept", async () => {
      await serve('v2/fw', image, 8 * 1024);
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
      const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), { chunkBytes: KIB64 });
      await gateway(d);
      await expect(d.done).rejects.toThrow(
        /the server refused the download: PAYLOAD_TOO_LARGE \(chunk size 16384, after 65536, 32768 is over the server's limit: set firmware.chunkBytes to its limit/,
      );
      expect(store.current()).toMatchObject({ chunkBytes: CHUNK, bytes: 0 });
    }, 30_000);

    it('survives the broker going down mid-download: resumes from the first missing chunk under a new request id', async () => {
      await serve('v2/fw', image);
      let cut = false;
      // cut once 16 chunks are written (32 requests are in flight from the start: a chunk number says little)
      server.onRequest = () => {
        if ((store.current()?.chunks ?? 0) >= 16 && !cut) {
          cut = true;
          void broker.stop().then(() => setTimeout(() => void broker.start(), 300));
        }
      };
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 8 * 1024 * 1024);
      const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), {
        chunkBytes: CHUNK,
        chunkTimeoutMs: 1000,
      });
      await gateway(d);
      const v = await d.done;
      expect(cut).toBe(true);
      expect(Buffer.compare(v.image, image)).toBe(0);
      const ids = [...new Set(server.requests.map((r) => r.requestId))];
      expect(ids.length).toBeGreaterThanOrEqual(2);
      // after the cut, the new request id starts past chunk 0: what was on disk was not fetched again
      const firstOfSecond = server.requests.find((r) => r.requestId === ids[1])!;
      expect(firstOfSecond.chunk).toBeGreaterThanOrEqual(16);
      expect(server.requests.filter((r) => r.chunk === 0)).toHaveLength(1);
    }, 40_000);

    it('survives an agent restart mid-download: a new process picks up the durable progress', async () => {
      await serve('v2/fw', image);
      const dir = path.join(t.dir, 'fw');
      const firstStore = new PackageDownloadStore(dir, 8 * 1024 * 1024);
      const first = new PackageDownloader(firstStore, thingsboardOtaTopics, pkgOf(image), { chunkBytes: CHUNK });
      server.stallFrom = 40; // the agent is killed waiting for chunk 40 (else a fast disk is done first)
      const c = await gateway(first);
      // read from the file, as a restarted agent would: a second store's current() would cut the live download's
      // data file back to what is recorded under its feet
      const recorded = (): number => {
        try {
          return (JSON.parse(fs.readFileSync(path.join(dir, 'download', 'progress.json'), 'utf8')) as { chunks: number }).chunks;
        } catch {
          return 0;
        }
      };
      await waitUntil('30 chunks recorded on disk', () => recorded() >= 30, 20_000);
      first.detach();
      await c.endAsync(true); // the agent is gone
      await firstStore.settled(); // (a killed process has no background sync still running)
      firstStore.close();
      const resumedAt = new PackageDownloadStore(dir, 8 * 1024 * 1024).current()!.chunks;
      server.stallFrom = null;
      const before = server.requests.length;
      const second = new PackageDownloader(
        new PackageDownloadStore(dir, 8 * 1024 * 1024),
        thingsboardOtaTopics,
        pkgOf(image),
        { chunkBytes: CHUNK },
      );
      await gateway(second);
      const v = await second.done;
      expect(Buffer.compare(v.image, image)).toBe(0);
      expect(Math.min(...server.requests.slice(before).map((r) => r.chunk))).toBe(resumedAt);
    }, 40_000);

    it('refuses a package over the budget before requesting anything', async () => {
      await serve('v2/fw', image);
      const store = new PackageDownloadStore(path.join(t.dir, 'fw'), 512 * 1024);
      expect(
        () => new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), { chunkBytes: CHUNK }),
      ).toThrow(DownloadFailure);
      expect(server.requests).toHaveLength(0);
    });
  },
);

describe('PackageDownloader against the ThingsBoard double (its MQTT transport: PAYLOAD_TOO_LARGE, then the session closed)', () => {
  const f = thingsboardDoubleFixture('GW_TOKEN');
  const connections: Array<ReturnType<typeof connectGateway>> = [];
  afterEach(async () => {
    for (const c of connections.splice(0)) await c.end();
  });
  const gateway = async (d: PackageDownloader): Promise<ReturnType<typeof connectGateway>> => {
    const c = connectGateway(f.tb.url, d, 'GW_TOKEN');
    connections.push(c);
    await c.first;
    return c;
  };
  const serve = (): void => {
    f.tb.ota.pkg = { title: 'kitchen-scale', version: '2.5.0', checksumAlgorithm: 'SHA256', data: image };
  };

  it("downloads a 1 MB package in 64 KiB chunks, the ThingsBoard profile's default (the server's max_payload_size)", async () => {
    serve();
    const store = new PackageDownloadStore(path.join(f.dir, 'fw'), 8 * 1024 * 1024);
    const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), { chunkBytes: KIB64 });
    await gateway(d);
    const v = await d.done;
    expect(Buffer.compare(v.image, image)).toBe(0);
    expect(f.tb.ota.requests.every((r) => r.size === KIB64)).toBe(true);
    expect(d.counts.requested).toBe(Math.ceil(image.length / KIB64));
    expect(d.refusedSizes).toEqual([]);
  }, 30_000);

  it('a server that closes the connection without a word: 128 and 64 KiB given up after two silent connections each, 32 KiB finishes', async () => {
    serve();
    f.tb.ota.maxPayloadSize = 32 * 1024;
    f.tb.ota.refusal = 'close';
    const store = new PackageDownloadStore(path.join(f.dir, 'fw'), 8 * 1024 * 1024);
    const d = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), { chunkBytes: 2 * KIB64 });
    await gateway(d);
    const v = await d.done;
    expect(Buffer.compare(v.image, image)).toBe(0);
    expect(d.refusedSizes).toEqual([2 * KIB64, KIB64]);
    // each size was asked on its own connections before it was given up (64 KiB was not skipped)
    const sessionsAt = (size: number): number => new Set(f.tb.ota.requests.filter((r) => r.size === size).map((r) => r.requestId)).size;
    expect(sessionsAt(2 * KIB64)).toBe(2);
    expect(sessionsAt(KIB64)).toBe(2);
  }, 30_000);

  it('a limit lowered mid-download: falls back to 32 KiB keeping every byte on disk, and a restarted agent goes on at 32 KiB', async () => {
    serve();
    const dir = path.join(f.dir, 'fw');
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    const first = new PackageDownloader(store, thingsboardOtaTopics, pkgOf(image), { chunkBytes: KIB64 });
    f.tb.ota.stallFrom = 8; // 512 KiB answered, then the server stalls
    const c = await gateway(first);
    await waitUntil('512 KiB recorded', () => recordedProgress(dir).bytes === 8 * KIB64, 20_000);
    const refusalsBefore = f.tb.rejections.length;
    // The server comes back with max_payload_size 32768 (and stalls again at 768 KiB, where the agent is killed).
    await f.tb.restart(0, () => {
      f.tb.ota.maxPayloadSize = 32 * 1024;
      f.tb.ota.stallFrom = 24;
    });
    await waitUntil("768 KiB recorded at 32 KiB", () => recordedProgress(dir).bytes === 24 * 32 * 1024, 20_000, () =>
      ` on disk: ${JSON.stringify(recordedProgress(dir))}`,
    );
    expect(recordedProgress(dir)).toEqual({ chunks: 24, bytes: 24 * 32 * 1024, chunkBytes: 32 * 1024 });
    expect(first.refusedSizes).toEqual([KIB64]);
    expect(f.tb.rejections.slice(refusalsBefore)).toContainEqual(expect.objectContaining({ outcome: 'closed', reason: 'PAYLOAD_TOO_LARGE' }));
    // nothing below the 512 KiB on disk was asked for again: the first 32 KiB chunk asked is chunk 16
    const small = f.tb.ota.requests.filter((r) => r.size === 32 * 1024);
    expect(Math.min(...small.map((r) => r.chunk))).toBe(16);
    expect(f.tb.ota.requests.filter((r) => r.size === KIB64 && r.chunk < 8)).toHaveLength(8);

    // the agent is killed and started again, configured with 64 KiB: it goes on at 32 KiB from its progress
    await c.end();
    first.detach();
    await store.settled();
    store.close();
    const before = f.tb.ota.requests.length;
    const rejectionsBefore = f.tb.rejections.length;
    f.tb.ota.stallFrom = null;
    const second = new PackageDownloader(new PackageDownloadStore(dir, 8 * 1024 * 1024), thingsboardOtaTopics, pkgOf(image), {
      chunkBytes: KIB64,
    });
    await gateway(second);
    const v = await second.done;
    expect(Buffer.compare(v.image, image)).toBe(0);
    const after = f.tb.ota.requests.slice(before);
    expect(after.every((r) => r.size === 32 * 1024)).toBe(true);
    expect(Math.min(...after.map((r) => r.chunk))).toBe(24);
    expect(second.refusedSizes).toEqual([]);
    expect(f.tb.rejections.length).toBe(rejectionsBefore);
  }, 40_000);
});
