import * as path from 'node:path';
import { PackageDownloadStore } from '../../agent/firmware-update/package-download-store';
import { kitchenScaleImage, packageOf } from '../support/firmware-packages';
import { tempDir } from '../support/temp-dir';

// The store's writes go through this module's fs: a write can be made to take fewer bytes than asked, as one may
// on a nearly full disk (a short write is legal for write(2); the store must not leave a hole).
jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...real, writeSync: jest.fn(real.writeSync) };
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof import('node:fs') & { writeSync: jest.Mock };
const realWriteSync = jest.requireActual<typeof import('node:fs')>('node:fs').writeSync;

const image = kitchenScaleImage('2.5.0', 200 * 1024);
const CHUNK = 16 * 1024;
const chunkOf = (n: number): Buffer => image.subarray(n * CHUNK, (n + 1) * CHUNK);

describe('package download store on a disk that takes less than asked', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('edge-fw-short-')));
  afterEach(() => {
    fs.writeSync.mockImplementation(realWriteSync);
    t.cleanup();
  });

  it('completes a short write; the checksum taken from the received bytes then holds for the file too', () => {
    // The checksum comes from the bytes as received: a hole left by a short write would only show in the file.
    const store = new PackageDownloadStore(path.join(t.dir, 'firmware'), 8 * 1024 * 1024);
    store.begin(packageOf(image), CHUNK);
    let short = 5;
    fs.writeSync.mockClear();
    fs.writeSync.mockImplementation((fd: number, b: Uint8Array, offset: number, length: number, at: number) =>
      realWriteSync(fd, b, offset, short-- > 0 ? Math.min(length, 1000) : length, at),
    );
    const chunks = Math.ceil(image.length / CHUNK);
    for (let n = 0; n < chunks; n++) store.append(n, chunkOf(n));
    expect(fs.writeSync.mock.calls.length).toBeGreaterThan(chunks);
    expect(Buffer.compare(store.finish().image, image)).toBe(0);
    expect(Buffer.compare(fs.readFileSync(store.packageFile), image)).toBe(0);
  });

  it('a write that takes nothing fails the chunk with a disk error and records nothing', () => {
    const store = new PackageDownloadStore(path.join(t.dir, 'firmware'), 8 * 1024 * 1024);
    store.begin(packageOf(image), CHUNK);
    store.append(0, chunkOf(0));
    fs.writeSync.mockImplementation(() => 0);
    expect(() => store.append(1, chunkOf(1))).toThrow(/chunk 1: the disk took 0 of its 16384 bytes/);
    expect(store.current()).toMatchObject({ chunks: 1, bytes: CHUNK });
    store.close();
  });
});
