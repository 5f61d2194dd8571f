import { createHash, type Hash } from 'node:crypto';
import type { KnownSha256 } from '../../firmware-bridge/flasher/esp-image-inspector';
import { PackageChecksum, type ChecksumAlgorithm } from './firmware-package';

/** The bytes an ESP image's appended SHA-256 takes: the digest covers everything before them. */
const APPENDED_DIGEST_BYTES = 32;

/** What the end of a download checks, computed while it arrived. */
export interface DownloadDigestResult {
  /** the package's checksum in its algorithm, as PackageChecksum writes it */
  checksum: string;
  /** SHA-256 of all but the last 32 bytes (null for a package shorter than that) */
  imageSha256: KnownSha256 | null;
}

/**
 * The digests a download's checks need, computed chunk by chunk as the bytes arrive in order instead of over the
 * whole package once it is complete (docs/firmware-updates.md §4: the checks were most of what stood between the
 * last chunk and VERIFIED): the package's checksum, and the SHA-256 of everything but the last 32 bytes, which is
 * what an ESP image's appended digest covers when the package is the image. With SHA256 as the package's
 * algorithm one hash gives both (its state is copied at the cut).
 */
export class DownloadDigests {
  /** bytes taken so far */
  bytes = 0;
  private readonly cut: number;
  /** SHA-256 up to the cut; with a SHA256 package it goes on past the cut and is the checksum too */
  private sha256: Hash | null;
  private readonly checksum: PackageChecksum | null;
  private imageSha256: Buffer | null = null;
  private digests: DownloadDigestResult | null = null;

  constructor(
    readonly size: number,
    readonly algorithm: ChecksumAlgorithm,
  ) {
    this.cut = size - APPENDED_DIGEST_BYTES;
    this.sha256 = this.cut >= 0 || algorithm === 'SHA256' ? createHash('sha256') : null;
    this.checksum = algorithm === 'SHA256' ? null : new PackageChecksum(algorithm);
  }

  /** The next bytes of the package, in order. */
  update(bytes: Uint8Array): void {
    const before = this.bytes;
    this.bytes += bytes.length;
    this.checksum?.update(bytes);
    const h = this.sha256;
    if (h === null) return;
    // before the cut, or past it with a SHA256 package (the hash then is the checksum), or no cut at all
    if (this.imageSha256 !== null || this.cut < 0 || this.bytes < this.cut) {
      h.update(bytes);
      return;
    }
    // this chunk reaches the cut: hash up to it, keep that digest, and go on only if it is the checksum too
    const head = this.cut - before;
    h.update(bytes.subarray(0, head));
    if (this.checksum !== null) {
      this.imageSha256 = h.digest();
      this.sha256 = null;
      return;
    }
    this.imageSha256 = h.copy().digest();
    h.update(bytes.subarray(head));
  }

  /** The digests, once every byte of the package was taken. */
  result(): DownloadDigestResult {
    if (this.bytes !== this.size) throw new Error(`digests of ${this.bytes} of ${this.size} bytes`);
    // a hash is finished once: the result is kept
    this.digests ??= {
      checksum: this.checksum ? this.checksum.digest() : (this.sha256 as Hash).digest('hex'),
      imageSha256: this.imageSha256 ? { length: this.cut, digest: this.imageSha256 } : null,
    };
    return this.digests;
  }
}
