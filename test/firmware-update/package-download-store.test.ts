import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  PackageAnnouncementError,
  PackageChecksum,
  packageFromGenericRequest,
  packageFromThingsboardAttributes,
} from '../../agent/firmware-update/firmware-package';
import { DownloadFailure } from '../../agent/firmware-update/download-failure';
import { PackageDownloadStore } from '../../agent/firmware-update/package-download-store';
import { FirmwareUpdates } from '../../agent/firmware-update/firmware-updates';
import { buildEspImage } from '../support/esp-rom-sim';
import { kitchenScaleImage, packageOf, sha256 } from '../support/firmware-packages';
import { tempDir } from '../support/temp-dir';

const image = kitchenScaleImage('2.5.0', 200 * 1024);
const pkgOf = packageOf;
const CHUNK = 16 * 1024;
const chunkOf = (bytes: Buffer, n: number): Buffer => bytes.subarray(n * CHUNK, (n + 1) * CHUNK);

describe('package announcements', () => {
  it.each([
    ['SHA256', (b: Buffer) => createHash('sha256').update(b).digest('hex')],
    ['SHA384', (b: Buffer) => createHash('sha384').update(b).digest('hex')],
    ['SHA512', (b: Buffer) => createHash('sha512').update(b).digest('hex')],
    ['MD5', (b: Buffer) => createHash('md5').update(b).digest('hex')],
    ['CRC32', (b: Buffer) => (zlib.crc32(b) >>> 0).toString(16).padStart(8, '0')],
  ] as const)('%s is computed incrementally over chunks as a whole-file digest', (alg, whole) => {
    const c = new PackageChecksum(alg);
    for (let i = 0; i < image.length; i += 7777) c.update(image.subarray(i, i + 7777));
    expect(c.digest()).toBe(whole(image));
  });

  it('reads ThingsBoard shared attributes as DefaultOtaPackageStateService writes them', () => {
    expect(
      packageFromThingsboardAttributes({
        fw_title: 'kitchen-scale',
        fw_version: '2.5.0',
        fw_size: 1024,
        fw_checksum_algorithm: 'CRC32',
        fw_checksum: 'abc12',
        fw_tag: 'kitchen-scale 2.5.0',
      }),
    ).toEqual({
      title: 'kitchen-scale',
      version: '2.5.0',
      size: 1024,
      checksum: '000abc12',
      checksumAlgorithm: 'CRC32',
      tag: 'kitchen-scale 2.5.0',
      devices: null,
    });
    expect(packageFromThingsboardAttributes({ v_coffee: 40 })).toBeNull();
    expect(packageFromThingsboardAttributes({}, ['fw_title', 'fw_version'])).toEqual({ cancel: true });
  });

  it.each([
    [
      { fw_title: 'a', fw_version: '1', fw_size: 10, fw_checksum_algorithm: 'MURMUR3_32', fw_checksum: 'ab' },
      /fw_checksum_algorithm MURMUR3_32 is not supported/,
    ],
    [{ fw_title: 'a', fw_version: '1', fw_url: 'https://x/fw.bin' }, /URL packages are not supported/],
    [
      { fw_title: 'a', fw_version: '1', fw_size: -1, fw_checksum_algorithm: 'MD5', fw_checksum: 'ab' },
      /fw_size must be a byte count/,
    ],
    [
      { fw_title: '', fw_version: '1', fw_size: 1, fw_checksum_algorithm: 'MD5', fw_checksum: 'ab' },
      /fw_title must be a non-empty string/,
    ],
    [
      { fw_title: 'a', fw_version: '1', fw_size: 1, fw_checksum_algorithm: 'SHA256', fw_checksum: 'ab' },
      /fw_checksum must be 64 hex digits/,
    ],
  ])('refuses a ThingsBoard announcement it cannot serve: %j', (attrs, msg) => {
    expect(() => packageFromThingsboardAttributes(attrs)).toThrow(PackageAnnouncementError);
    expect(() => packageFromThingsboardAttributes(attrs)).toThrow(msg);
  });

  it('reads the generic set/firmware body with a device list, and a cancel', () => {
    const p = packageFromGenericRequest({
      title: 'kitchen-scale',
      version: '2.5.0',
      size: 5,
      checksum: 'A'.repeat(32),
      checksumAlgorithm: 'md5',
      devices: ['scale-1'],
    });
    expect(p).toMatchObject({ checksumAlgorithm: 'MD5', checksum: 'a'.repeat(32), devices: ['scale-1'] });
    expect(packageFromGenericRequest({ cancel: true })).toEqual({ cancel: true });
    expect(() =>
      packageFromGenericRequest({
        title: 'x',
        version: '1',
        size: 5,
        checksum: 'a'.repeat(32),
        checksumAlgorithm: 'MD5',
        devices: [],
      }),
    ).toThrow(/devices must be a non-empty list/);
    expect(() => packageFromGenericRequest('nope')).toThrow(/JSON object/);
  });
});

describe('PackageDownloadStore on real files', () => {
  let t: ReturnType<typeof tempDir>;
  let dir: string;
  beforeEach(() => {
    t = tempDir('edge-fw-store-');
    dir = path.join(t.dir, 'firmware');
  });
  afterEach(() => t.cleanup());

  it('goes on with a smaller chunk size from the bytes on disk, records the size, and a restart keeps it', async () => {
    const pkg = pkgOf(image);
    const big = 2 * CHUNK;
    const part = path.join(dir, 'download', 'data.part');
    const progressOnDisk = (): unknown => JSON.parse(fs.readFileSync(path.join(dir, 'download', 'progress.json'), 'utf8'));
    let store = new PackageDownloadStore(dir, 8 * 1024 * 1024, big);
    store.begin(pkg, big);
    store.append(0, image.subarray(0, big));
    store.append(1, image.subarray(big, 2 * big)); // (a background sync records both)
    await store.settled();
    // halved: every byte written is a whole number of new chunks, nothing is cut
    expect(store.resize(big / 2)).toMatchObject({ chunkBytes: big / 2, chunks: 4, bytes: 2 * big });
    expect(fs.statSync(part).size).toBe(2 * big);
    const half = big / 2;
    for (let n = 4; n < 7; n++) store.append(n, image.subarray(n * half, (n + 1) * half));
    await store.settled();
    expect(progressOnDisk()).toEqual({ chunks: 7, bytes: 7 * half, chunkBytes: half });
    store.close();
    // a restart, configured with the large size again: goes on with the size on record (no refusal asked again)
    store = new PackageDownloadStore(dir, 8 * 1024 * 1024, big);
    expect(store.begin(pkg, big)).toMatchObject({ chunkBytes: half, chunks: 7, bytes: 7 * half });
    // a configured size lowered to one that does not divide the bytes (7 × 16 KiB by 12 KiB): cut back to the last
    // whole new chunk on record, recorded before the cut
    const odd = (3 * CHUNK) / 4;
    expect(store.begin(pkg, odd)).toMatchObject({ chunkBytes: odd, chunks: 9, bytes: 9 * odd });
    expect(progressOnDisk()).toEqual({ chunks: 9, bytes: 9 * odd, chunkBytes: odd });
    expect(fs.statSync(part).size).toBe(9 * odd);
    for (let n = 9; n * odd < image.length; n++) store.append(n, image.subarray(n * odd, (n + 1) * odd));
    const v = await store.finishInBackground();
    expect(Buffer.compare(v.image, image)).toBe(0);
  });

  it("a technician's import of the package being downloaded replaces the download (the file is one chunk)", () => {
    const fw = new FirmwareUpdates(path.join(t.dir, 'data'));
    fw.store.begin(pkgOf(image), CHUNK);
    fw.store.append(0, chunkOf(image, 0));
    const file = path.join(t.dir, 'new.bin');
    fs.writeFileSync(file, image);
    expect(Buffer.compare(fw.importPackage(file).image, image)).toBe(0);
    expect(fw.store.current()).toBeNull();
  });

  it('downloads in chunks, survives a restart mid-download with a torn last write, verifies and keeps the package', async () => {
    const pkg = pkgOf(image);
    let store = new PackageDownloadStore(dir, 8 * 1024 * 1024, 8 * CHUNK);
    store.begin(pkg, CHUNK);
    // a background sync starts at 8 chunks' bytes; once it is done, what arrived meanwhile is synced too
    for (let n = 0; n < 10; n++) store.append(n, chunkOf(image, n));
    await store.settled();
    // chunks 10 and 11 are written but below the threshold: not recorded
    for (let n = 10; n < 12; n++) store.append(n, chunkOf(image, n));
    // The power goes while chunk 12 is being written: its bytes reach the file, the progress never moves.
    fs.appendFileSync(path.join(dir, 'download', 'data.part'), chunkOf(image, 12).subarray(0, 3000));
    store.close();

    store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    const resumed = store.current();
    expect(resumed).toMatchObject({ chunks: 10, bytes: 10 * CHUNK, chunkBytes: CHUNK });
    expect(fs.statSync(path.join(dir, 'download', 'data.part')).size).toBe(10 * CHUNK);
    // Re-announcing the same package keeps the progress.
    expect(store.begin(pkg, CHUNK).chunks).toBe(10);
    const total = Math.ceil(image.length / CHUNK);
    for (let n = 10; n < total; n++) store.append(n, chunkOf(image, n));
    expect(store.complete()).toBe(true);
    const v = store.finish();
    expect(Buffer.compare(v.image, image)).toBe(0);
    expect(v.inspection.appDescriptor?.version).toBe('2.5.0');
    expect(fs.existsSync(path.join(dir, 'download'))).toBe(false);

    // After a restart the verified package is still there.
    const again = new PackageDownloadStore(dir, 8 * 1024 * 1024).verified();
    expect(again?.pkg).toEqual(pkg);
    expect(Buffer.compare(again!.image, image)).toBe(0);
  });

  it('checks the file as it is after a restart: a byte changed on disk below the recorded progress is caught', async () => {
    // In one process the digests are taken as the chunks are written; after a restart there are none in memory,
    // so the end hashes the file: what changed on disk meanwhile cannot pass as the package.
    const pkg = pkgOf(image);
    let store = new PackageDownloadStore(dir, 8 * 1024 * 1024, 4 * CHUNK);
    store.begin(pkg, CHUNK);
    for (let n = 0; n < 5; n++) store.append(n, chunkOf(image, n));
    await store.settled();
    store.close();
    const data = path.join(dir, 'download', 'data.part');
    const fd = fs.openSync(data, 'r+');
    fs.writeSync(fd, Buffer.from([image[1000] ^ 0xff]), 0, 1, 1000);
    fs.closeSync(fd);

    store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    expect(store.begin(pkg, CHUNK).chunks).toBe(5);
    for (let n = 5; n * CHUNK < image.length; n++) store.append(n, chunkOf(image, n));
    await expect(store.finishInBackground()).rejects.toThrow(/checksum mismatch/);
    expect(store.verified()).toBeNull();
  });

  it('bounds what a power cut costs: a caller writing past the bound on unrecorded bytes waits for the disk', async () => {
    // background syncs from 2 chunks unrecorded, never more than 8 chunks unrecorded
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024, 2 * CHUNK);
    expect(store.maxUnrecordedBytes).toBe(8 * CHUNK);
    store.begin(pkgOf(image), CHUNK);
    const file = path.join(dir, 'download', 'progress.json');
    const onDisk = (): { chunks: number } =>
      fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { chunks: number }) : { chunks: 0 };
    expect(store.hasRoomFor(8 * CHUNK)).toBe(true);
    expect(store.hasRoomFor(9 * CHUNK)).toBe(false);
    // no await between the appends: the background sync started at chunk 2 cannot have finished
    for (let n = 0; n < 8; n++) store.append(n, chunkOf(image, n));
    expect(onDisk().chunks).toBe(0);
    expect(store.hasRoomFor(CHUNK)).toBe(false);
    expect(store.synchronousSyncs).toBe(0);
    store.append(8, chunkOf(image, 8)); // 9 chunks unrecorded: past the bound, synchronous
    expect(onDisk().chunks).toBe(9);
    expect(store.synchronousSyncs).toBe(1);
    await store.settled(); // the late background sync (chunk 2) does not move the progress back
    expect(onDisk().chunks).toBe(9);
    // the bytes that complete the package always fit (finish() makes them durable)
    expect(store.hasRoomFor(image.length - 9 * CHUNK)).toBe(true);
    store.close();
    // a bound below one chunk still lets one chunk ahead of the record (else nothing could ever be asked for)
    const tiny = new PackageDownloadStore(path.join(t.dir, 'other'), 8 * 1024 * 1024, 1);
    tiny.begin(pkgOf(image), CHUNK);
    expect([tiny.hasRoomFor(CHUNK), tiny.hasRoomFor(2 * CHUNK)]).toEqual([true, false]);
    tiny.close();
  });

  it('tells its listener when a background sync has recorded, and only the current listener', async () => {
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024, 2 * CHUNK);
    store.begin(pkgOf(image), CHUNK);
    const first: (Error | null)[] = [];
    const second: (Error | null)[] = [];
    const stopFirst = store.whenRecorded((e) => first.push(e));
    store.whenRecorded((e) => second.push(e));
    stopFirst(); // a listener that ends late does not remove its successor
    for (let n = 0; n < 3; n++) store.append(n, chunkOf(image, n));
    await store.settled();
    expect(first).toEqual([]);
    expect(second.length).toBeGreaterThan(0);
    expect(second.every((e) => e === null)).toBe(true);
    expect(store.hasRoomFor(8 * CHUNK)).toBe(true);
    store.close();
  });

  it('refuses out-of-order chunks and a chunk of the wrong size', () => {
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    store.begin(pkgOf(image), CHUNK);
    expect(() => store.append(1, chunkOf(image, 1))).toThrow(/not the next one/);
    expect(() => store.append(0, chunkOf(image, 0).subarray(1))).toThrow(DownloadFailure);
    expect(store.current()?.bytes).toBe(0);
    store.close();
  });

  it('finishes in the background with the same outcome: the package kept, or a wrong one deleted', async () => {
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    store.begin(pkgOf(image), CHUNK);
    for (let n = 0; n * CHUNK < image.length; n++) store.append(n, chunkOf(image, n));
    const v = await store.finishInBackground();
    expect(Buffer.compare(v.image, image)).toBe(0);
    expect(new PackageDownloadStore(dir, 8 * 1024 * 1024).verified()?.pkg).toEqual(pkgOf(image));
    store.begin(pkgOf(image, { version: '2.5.0', checksum: sha256(Buffer.from('other')) }), CHUNK);
    for (let n = 0; n * CHUNK < image.length; n++) store.append(n, chunkOf(image, n));
    await expect(store.finishInBackground()).rejects.toThrow(/checksum mismatch/);
    expect(store.verified()).toBeNull();
    expect(store.usedBytes()).toBe(0);
  });

  it('a new package announced while the end runs wins: the finished one is not kept, the new download stands', async () => {
    const other = kitchenScaleImage('2.6.0', 100 * 1024);
    for (const at of ['checks', 'directory fsync'] as const) {
      const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
      store.begin(pkgOf(image), CHUNK);
      for (let n = 0; n * CHUNK < image.length; n++) store.append(n, chunkOf(image, n));
      const replace = (): void => void store.begin(pkgOf(other), CHUNK);
      // the end's directory fsync (after the renames) opens the firmware directory in the thread pool
      const open = fs.promises.open.bind(fs.promises);
      const spy = jest.spyOn(fs.promises, 'open').mockImplementation((file, ...rest) => {
        if (at === 'directory fsync' && file === dir) replace();
        return open(file, ...rest);
      });
      try {
        const ending = store.finishInBackground();
        if (at === 'checks') replace();
        await expect(ending).rejects.toThrow(/replaced while it was checked/);
      } finally {
        spy.mockRestore();
      }
      expect(store.current()).toMatchObject({ pkg: pkgOf(other), chunks: 0 });
      expect(fs.existsSync(path.join(dir, 'download', 'package.json'))).toBe(true);
      expect(store.verified()).toBeNull();
      store.discard();
    }
  });

  it('a wrong checksum is FAILED and leaves nothing behind', () => {
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    store.begin(pkgOf(image, { checksum: sha256(Buffer.from('other')) }), CHUNK);
    for (let n = 0; n * CHUNK < image.length; n++) store.append(n, chunkOf(image, n));
    expect(() => store.finish()).toThrow(
      /checksum mismatch: SHA256 of the download is [0-9a-f]{64}, the package says/,
    );
    expect(store.verified()).toBeNull();
    expect(store.current()).toBeNull();
    expect(store.usedBytes()).toBe(0);
  });

  it.each([
    [
      'a corrupted image (right checksum of wrong bytes)',
      (b: Buffer) => {
        const c = Buffer.from(b);
        c[5000] ^= 0xff;
        return c;
      },
      {},
      /appended SHA-256 does not match|checksum byte/,
    ],
    [
      'another app',
      (b: Buffer) => b,
      { title: 'fridge-door' },
      /the image is the app "kitchen-scale", the package says "fridge-door"/,
    ],
    [
      'another version',
      (b: Buffer) => b,
      { version: '2.6.0' },
      /the image is version 2.5.0, the package says 2.6.0/,
    ],
    ['not an ESP image', () => Buffer.alloc(40_000, 0x41), {}, /not the ESP image magic/],
  ])('refuses %s before any device is touched', (_what, mutate, over, msg) => {
    const bytes = mutate(image);
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    store.begin(pkgOf(bytes, over), CHUNK);
    for (let n = 0; n * CHUNK < bytes.length; n++) store.append(n, chunkOf(bytes, n));
    let err: unknown;
    try {
      store.finish();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DownloadFailure);
    expect((err as DownloadFailure).code).toBe('image');
    expect((err as Error).message).toMatch(msg);
    expect(store.verified()).toBeNull();
  });

  it('refuses a package over the storage budget before writing a byte, counting the kept rollback images', () => {
    const store = new PackageDownloadStore(dir, 300 * 1024);
    fs.writeFileSync(path.join(store.rollbackDir, 'scale-1.bin'), Buffer.alloc(150 * 1024));
    let err: unknown;
    try {
      store.begin(pkgOf(image), CHUNK);
    } catch (e) {
      err = e;
    }
    expect((err as DownloadFailure).code).toBe('budget');
    expect((err as Error).message).toBe(
      `package of ${image.length} bytes exceeds the firmware storage budget (${150 * 1024} bytes free of ${300 * 1024}; raise firmware.maxBytes)`,
    );
    expect(store.current()).toBeNull();
    expect(fs.existsSync(path.join(dir, 'download'))).toBe(false);
    expect(store.usedBytes()).toBe(150 * 1024);
  });

  it('a new package replaces an unfinished download of another one', () => {
    const store = new PackageDownloadStore(dir, 8 * 1024 * 1024);
    store.begin(pkgOf(image), CHUNK);
    store.append(0, chunkOf(image, 0));
    const other = buildEspImage({
      size: 50 * 1024,
      appDescriptor: { projectName: 'kitchen-scale', version: '2.6.0', idfVersion: 'v5.3.1' },
    });
    expect(store.begin(pkgOf(other, { version: '2.6.0' }), CHUNK)).toMatchObject({ chunks: 0, bytes: 0 });
    expect(store.usedBytes()).toBeLessThan(1024);
    store.close();
  });
});
