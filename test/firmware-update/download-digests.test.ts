import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { DownloadDigests } from '../../agent/firmware-update/download-digests';
import { CHECKSUM_ALGORITHMS, PackageChecksum } from '../../agent/firmware-update/firmware-package';

describe('DownloadDigests', () => {
  it('gives the whole-package checksum and the SHA-256 before the last 32 bytes, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CHECKSUM_ALGORITHMS),
        fc.uint8Array({ minLength: 0, maxLength: 3000, size: 'max' }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
        (algorithm, bytes, cuts) => {
          const d = new DownloadDigests(bytes.length, algorithm);
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length];
            d.update(bytes.subarray(at, at + n));
            at += n;
          }
          const r = d.result();
          expect(r.checksum).toBe(new PackageChecksum(algorithm).update(bytes).digest());
          if (bytes.length < 32) expect(r.imageSha256).toBeNull();
          else
            expect(r.imageSha256).toEqual({
              length: bytes.length - 32,
              digest: createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest(),
            });
          expect(d.result()).toBe(r); // asked again: the same, not a hash finished twice
        },
      ),
      { numRuns: 400 },
    );
  });

  it('has no result before every byte was taken', () => {
    const d = new DownloadDigests(100, 'SHA256');
    d.update(new Uint8Array(99));
    expect(() => d.result()).toThrow(/digests of 99 of 100 bytes/);
  });
});
