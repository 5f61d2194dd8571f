import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import { DownloadDigests } from './download-digests';
import { DownloadFailure } from './download-failure';
import {
  directoryBytes,
  readJsonFile,
  syncDirectory,
  syncDirectoryInBackground,
  writeFileDurably,
  writeFileDurablyInBackground,
} from './durable-file';
import { samePackage, type FirmwarePackage } from './firmware-package';
import { checkPackageBytes, type VerifiedPackage } from './package-verification';

/**
 * A background fsync + progress write starts once this much of a download is written but not recorded
 * (docs/firmware-updates.md §4).
 */
export const DOWNLOAD_SYNC_BYTES = 256 * 1024;

/**
 * At most this much of a download is ever written but not recorded: the downloader asks for no chunk that would
 * pass it until a background sync has recorded (and the store syncs synchronously if a caller writes past it).
 * So a power cut costs at most this much fetched again. Four background syncs' worth: at twice the sync
 * threshold a 1 MB download waited for the disk (a contended ext4 journal commit, 10–80 ms) in the middle of a
 * transfer that takes ~12 ms on the link.
 */
export const DOWNLOAD_MAX_UNRECORDED_BYTES = 4 * DOWNLOAD_SYNC_BYTES;

/** What is on disk for the package being downloaded. */
export interface DownloadProgress {
  pkg: FirmwarePackage;
  /** the chunk size the download goes on with (it may have been lowered since it began: resize) */
  chunkBytes: number;
  /** chunks of `chunkBytes` written: bytes 0..bytes-1 */
  chunks: number;
  bytes: number;
}

/** progress.json: the recorded (fsynced) bytes and the chunk size to go on with (absent in older files) */
interface ProgressRecord {
  chunks: number;
  bytes: number;
  chunkBytes?: number;
}

/**
 * The durable download of one firmware package in `<dataDir>/firmware` (docs/firmware-updates.md §4). Chunks
 * are appended in order and fsynced before the progress file moves past them, so after any crash the file is cut
 * back to the recorded length and the download goes on from the first chunk not recorded. Everything it stores
 * (download, verified package, rollback images) fits `maxBytes`; a package that cannot fit is refused before a
 * byte is written.
 */
export class PackageDownloadStore {
  private readonly downloadDir: string;
  private readonly dataFile: string;
  private readonly progressFile: string;
  private readonly announcementFile: string;
  readonly packageFile: string;
  private readonly packageMetaFile: string;
  readonly rollbackDir: string;
  private fd: number | null = null;
  private progress: DownloadProgress | null = null;
  /**
   * The checks' digests of bytes 0..progress.bytes, as they were appended in this process (null after a restart:
   * the end then hashes the file as it is)
   */
  private digests: DownloadDigests | null = null;
  /** the fsync + progress write running in the background, if any (one at a time) */
  private syncing: Promise<void> | null = null;
  /** bumped whenever the download directory's meaning changes (begin, finish, discard): a late sync then stops */
  private generation = 0;
  /** bytes the progress file records (it never moves back) */
  private recorded = 0;
  /** times append() had to stop for the disk because a caller wrote past the bound (the downloader never should) */
  synchronousSyncs = 0;
  /** told when a background sync recorded more, or failed with the download still current */
  private onRecorded: ((err: Error | null) => void) | null = null;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    /** unrecorded bytes that start a background fsync of data and progress (the chunk that reaches it included) */
    private readonly syncEveryBytes = DOWNLOAD_SYNC_BYTES,
    /** the bound on written-but-unrecorded bytes (DOWNLOAD_MAX_UNRECORDED_BYTES) */
    readonly maxUnrecordedBytes = 4 * syncEveryBytes,
  ) {
    this.downloadDir = path.join(dir, 'download');
    this.dataFile = path.join(this.downloadDir, 'data.part');
    this.progressFile = path.join(this.downloadDir, 'progress.json');
    this.announcementFile = path.join(this.downloadDir, 'package.json');
    this.packageFile = path.join(dir, 'package.bin');
    this.packageMetaFile = path.join(dir, 'package.json');
    this.rollbackDir = path.join(dir, 'rollback');
    fs.mkdirSync(this.rollbackDir, { recursive: true, mode: 0o700 });
  }

  /** The download in progress as it survived on disk (after a restart: cut back to the durable length). */
  current(): DownloadProgress | null {
    if (this.progress) return this.progress;
    const meta = readJsonFile<{ pkg: FirmwarePackage; chunkBytes: number }>(this.announcementFile);
    if (!meta) return null;
    const p = readJsonFile<ProgressRecord>(this.progressFile) ?? { chunks: 0, bytes: 0 };
    // the size the download went on with when it was recorded (a server refused a larger one: not asked again)
    const chunkBytes = p.chunkBytes ?? meta.chunkBytes;
    // A chunk written but not recorded (the power went between the two) is fetched again, never trusted.
    const onDisk = fs.existsSync(this.dataFile) ? fs.statSync(this.dataFile).size : 0;
    this.progress = { pkg: meta.pkg, chunkBytes, chunks: 0, bytes: 0 };
    this.recorded = 0;
    // the data file lost what progress says is durable: start over rather than trust a hole
    if (onDisk < p.bytes) writeFileDurably(this.progressFile, this.progressRecord(0));
    else this.recorded = p.bytes - (p.bytes % chunkBytes); // (always whole chunks: a torn record is cut back)
    if (onDisk !== this.recorded) fs.truncateSync(this.dataFile, this.recorded);
    this.progress.bytes = this.recorded;
    this.progress.chunks = this.recorded / chunkBytes;
    this.digests = null;
    return this.progress;
  }

  /** The package that passed its checks, if any. */
  verified(): VerifiedPackage | null {
    const pkg = readJsonFile<{ pkg?: FirmwarePackage }>(this.packageMetaFile)?.pkg;
    if (!pkg || !fs.existsSync(this.packageFile)) return null;
    const image = fs.readFileSync(this.packageFile);
    return { pkg, file: this.packageFile, image, inspection: inspectEspImage(image) };
  }

  /** Bytes this store holds now. */
  usedBytes(): number {
    return directoryBytes(this.dir);
  }

  /** Bytes a new package may use: the budget minus what must be kept (the rollback images). */
  availableBytes(): number {
    return this.maxBytes - directoryBytes(this.rollbackDir);
  }

  /**
   * Starts (or, for the same package, keeps going with) a download. A different package replaces the previous
   * download and verified package. Refused with code `budget` when the package cannot fit: nothing is written.
   */
  begin(pkg: FirmwarePackage, chunkBytes: number): DownloadProgress {
    const cur = this.current();
    // The same package goes on from its bytes on disk: at the size it went on with (one a server refused is not
    // asked for again), or at `chunkBytes` if that is smaller (the configured size was lowered).
    if (cur && samePackage(cur.pkg, pkg)) return chunkBytes < cur.chunkBytes ? this.resize(chunkBytes) : cur;
    const available = this.availableBytes();
    if (pkg.size > available) {
      throw new DownloadFailure(
        'budget',
        `package of ${pkg.size} bytes exceeds the firmware storage budget (${Math.max(0, available)} bytes free of ${this.maxBytes}; raise firmware.maxBytes)`,
      );
    }
    const free = diskFreeBytes(this.dir);
    if (free !== null && pkg.size > free)
      throw new DownloadFailure(
        'budget',
        `package of ${pkg.size} bytes does not fit the disk (${free} bytes free)`,
      );
    this.discard();
    fs.mkdirSync(this.downloadDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.dataFile, '');
    this.recorded = 0; // no progress file yet means nothing durable (discard removed any earlier one)
    // The announcement is written last: a download directory without it is an aborted begin and is ignored.
    writeFileDurably(this.announcementFile, JSON.stringify({ pkg, chunkBytes }));
    this.progress = { pkg, chunkBytes, chunks: 0, bytes: 0 };
    this.digests = new DownloadDigests(pkg.size, pkg.checksumAlgorithm);
    return this.progress;
  }

  /** Whether every byte of the package is on disk. */
  complete(): boolean {
    const p = this.current();
    return p !== null && p.bytes === p.pkg.size;
  }

  /**
   * Goes on with chunks of `chunkBytes` from the bytes already written (the server refused the size in use, or the
   * configured one was lowered). A chunk n of a size covers bytes n·size.., so the bytes written stay when they are
   * a whole number of new chunks (always, when the size is halved: docs/firmware-updates.md §4); otherwise the
   * download is cut back to the last whole new chunk that is recorded (recorded first, then cut: a crash between
   * the two keeps a record the file holds). The new size is recorded with the next progress record.
   */
  resize(chunkBytes: number): DownloadProgress {
    const p = this.current();
    if (!p) throw new Error('no download in progress');
    if (p.bytes % chunkBytes !== 0 || this.recorded % chunkBytes !== 0) {
      const kept = this.recorded - (this.recorded % chunkBytes);
      this.generation++; // a background sync under way records nothing of the bytes cut off
      p.chunkBytes = chunkBytes;
      this.record(kept);
      fs.truncateSync(this.dataFile, kept);
      p.bytes = kept;
      if (this.digests?.bytes !== kept) this.digests = null; // (the end hashes the file as it is)
    }
    p.chunkBytes = chunkBytes;
    p.chunks = p.bytes / chunkBytes;
    return p;
  }

  /**
   * Appends chunk `n` (must be the next one) durably. Every chunk but the last is exactly `chunkBytes`; a longer
   * total than announced is a broken download.
   */
  append(n: number, bytes: Uint8Array): DownloadProgress {
    const p = this.current();
    if (!p) throw new Error('no download in progress');
    if (n !== p.chunks) throw new Error(`chunk ${n} is not the next one (${p.chunks})`);
    const remaining = p.pkg.size - p.bytes;
    const expected = Math.min(p.chunkBytes, remaining);
    if (bytes.length !== expected) {
      throw new DownloadFailure(
        'chunk',
        `chunk ${n} has ${bytes.length} bytes, expected ${expected} (the package is not ${p.pkg.size} bytes, or the server cut it at another size)`,
      );
    }
    this.fd ??= fs.openSync(this.dataFile, 'r+');
    writeFully(this.fd, bytes, p.bytes, n);
    // hashed as it is written, so the end does not hash the whole package again (only bytes in order count)
    if (this.digests?.bytes === p.bytes) this.digests.update(bytes);
    else this.digests = null;
    p.chunks++;
    p.bytes += bytes.length;
    // The recorded progress only ever covers fsynced bytes: on restart anything past it is cut off and fetched again.
    // The last chunk needs no record of its own: finish() fsyncs the data and renames it into place.
    if (p.bytes === p.pkg.size) return p;
    if (p.bytes - this.recorded > this.boundFor(p)) {
      // a caller that wrote past the bound (the downloader waits instead): the disk now, so the bound holds
      this.synchronousSyncs++;
      fs.fsyncSync(this.fd);
      this.record(p.bytes);
    } else this.syncWhenDue();
    return p;
  }

  /**
   * Whether `bytes` more (on top of what is written) may be written without passing the bound on unrecorded bytes;
   * the bytes that complete the package always may (finish() makes them durable).
   */
  hasRoomFor(bytes: number): boolean {
    const p = this.progress;
    if (!p) return false;
    return p.bytes + bytes >= p.pkg.size || p.bytes - this.recorded + bytes <= this.boundFor(p);
  }

  /** The bound, but never below one chunk: one chunk ahead of the record is always allowed. */
  private boundFor(p: DownloadProgress): number {
    return Math.max(this.maxUnrecordedBytes, p.chunkBytes);
  }

  /**
   * `listener` is called after every background sync that recorded more, or failed (the error) for this download.
   * Returns what removes it (only it: a downloader that ends late does not remove its successor's).
   */
  whenRecorded(listener: (err: Error | null) => void): () => void {
    this.onRecorded = listener;
    return () => {
      if (this.onRecorded === listener) this.onRecorded = null;
    };
  }

  /** Starts a background sync when the unrecorded bytes reach the threshold (or, `any`, when there are some). */
  private syncWhenDue(any = false): void {
    const p = this.progress;
    if (!p || this.syncing !== null) return;
    const behind = p.bytes - this.recorded;
    if (behind <= 0 || (!any && behind < this.syncEveryBytes)) return;
    const gen = this.generation;
    this.syncing = this.syncInBackground(p.bytes).then((outcome) => {
      this.syncing = null;
      if (gen !== this.generation) return; // finished, replaced or discarded meanwhile
      // what arrived meanwhile is made durable too, even if no more chunks come; a failure is not retried in a
      // loop: it is the listener's (the downloader fails the download with it)
      if (outcome === true) this.syncWhenDue(true);
      if (outcome !== false) this.onRecorded?.(outcome === true ? null : outcome);
    });
  }

  /** Resolves when no background sync is running (tests; a clean stop). */
  async settled(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  private record(bytes: number): void {
    writeFileDurably(this.progressFile, this.progressRecord(bytes));
    this.recorded = bytes;
  }

  /**
   * progress.json for `bytes` fsynced, with the chunk size in use when it is written: `bytes` was a whole number of
   * chunks of the size in use when it was taken, and the size only ever changes to one that keeps it so (resize).
   */
  private progressRecord(bytes: number): string {
    const chunkBytes = this.progress?.chunkBytes ?? 0;
    const record: ProgressRecord = { chunks: chunkBytes > 0 ? Math.floor(bytes / chunkBytes) : 0, bytes, chunkBytes };
    return JSON.stringify(record);
  }

  /**
   * fsync of the data, then the progress file, while chunks keep arriving: the download no longer stops for the
   * disk. Through a descriptor of its own (fsync is per file, not per descriptor), so closing the append
   * descriptor meanwhile cannot pull it away; a download finished, replaced or discarded meanwhile records nothing.
   */
  private async syncInBackground(bytes: number): Promise<boolean | Error> {
    const gen = this.generation;
    try {
      const h = await fs.promises.open(this.dataFile, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
      const wanted = (): boolean => gen === this.generation && bytes > this.recorded;
      if (!wanted()) return false;
      if (!(await writeFileDurablyInBackground(this.progressFile, this.progressRecord(bytes), wanted)))
        return false;
      this.recorded = Math.max(this.recorded, bytes);
      return true;
    } catch (err) {
      // the file went away (finished or discarded): nothing to record; otherwise a real disk error
      if (gen !== this.generation) return false;
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /**
   * Checksum, then the image checks; on success the download becomes the verified package (rename, durable). On
   * failure the bytes are deleted (a wrong package is never kept) and the failure says why.
   */
  finish(): VerifiedPackage {
    const p = this.completeDownload();
    if (this.fd !== null) fs.fsyncSync(this.fd); // (after a restart the file was fsynced up to its recorded end)
    this.closeFd();
    return this.keep(p, this.check(p));
  }

  /**
   * finish() with the data's fsync in libuv's thread pool while the checksum and the image checks run (the end of
   * every download: the two overlap instead of adding up), and the renames' directory fsync there too (the event
   * loop does not stop for a contended journal commit). Same outcome; a download replaced meanwhile (a new
   * announcement) is not kept.
   */
  async finishInBackground(): Promise<VerifiedPackage> {
    const p = this.completeDownload();
    const gen = this.generation;
    const fd = this.fd;
    const synced =
      fd === null
        ? Promise.resolve<Error | null>(null)
        : new Promise<Error | null>((resolve) => fs.fsync(fd, (err) => resolve(err)));
    const checked = this.check(p); // reads what is written (the page cache), whatever the disk has yet
    const syncError = await synced;
    const replaced = (): DownloadFailure =>
      new DownloadFailure('chunk', 'the download was replaced while it was checked');
    if (gen !== this.generation) throw replaced();
    this.closeFd();
    if (syncError) {
      this.discard();
      throw new DownloadFailure('disk', `cannot make the download durable: ${syncError.message}`);
    }
    const verified = this.moveIntoPlace(p, checked);
    await syncDirectoryInBackground(this.dir);
    // a new announcement meanwhile discarded the package and owns download/ now
    if (gen !== this.generation) throw replaced();
    fs.rmSync(this.downloadDir, { recursive: true, force: true });
    return verified;
  }

  /** The download, complete; from here on a background sync records nothing (the data is renamed or deleted). */
  private completeDownload(): DownloadProgress {
    const p = this.current();
    if (!p || p.bytes !== p.pkg.size) throw new Error('the download is not complete');
    this.generation++;
    return p;
  }

  /**
   * Checksum, then the image checks, of what is written; the failure, not thrown yet (the caller discards). The
   * digests were taken as the chunks were written (the same bytes); after a restart the file is hashed as it is,
   * in one pass for both digests.
   */
  private check(p: DownloadProgress): ReturnType<typeof checkPackageBytes> {
    const written = fs.readFileSync(this.dataFile);
    let digests = this.digests?.bytes === p.pkg.size ? this.digests : null;
    if (!digests && written.length === p.pkg.size) {
      digests = new DownloadDigests(p.pkg.size, p.pkg.checksumAlgorithm);
      digests.update(written);
    }
    // (a file that is not the package's length fails the checksum, hashed as it is)
    return checkPackageBytes(p.pkg, written, digests?.result());
  }

  /** The checked, fsynced download becomes the verified package, durably; a failed check deletes it and throws. */
  private keep(p: DownloadProgress, checked: ReturnType<PackageDownloadStore['check']>): VerifiedPackage {
    const verified = this.moveIntoPlace(p, checked);
    syncDirectory(this.dir);
    fs.rmSync(this.downloadDir, { recursive: true, force: true });
    return verified;
  }

  /**
   * The renames of keep(), before the directory's fsync that makes them durable (the caller's; what is left of
   * download/ is removed only after it). A failed check deletes the download and throws.
   */
  private moveIntoPlace(p: DownloadProgress, checked: ReturnType<PackageDownloadStore['check']>): VerifiedPackage {
    if (checked instanceof DownloadFailure) {
      this.discard();
      throw checked;
    }
    // The announcement was made durable by begin(): it is moved, not written again. One directory fsync for both
    // renames. A crash between them leaves the bytes without their announcement: not a verified package (both are
    // needed), and the download starts over from the announcement still in download/.
    fs.renameSync(this.dataFile, this.packageFile);
    fs.renameSync(this.announcementFile, this.packageMetaFile);
    this.progress = null;
    this.digests = null;
    return { pkg: p.pkg, file: this.packageFile, image: checked.image, inspection: checked.inspection };
  }

  /** Forgets the download and the verified package (rollback images stay). */
  discard(): void {
    this.generation++;
    this.closeFd();
    this.progress = null;
    this.digests = null;
    fs.rmSync(this.downloadDir, { recursive: true, force: true });
    fs.rmSync(this.packageFile, { force: true });
    fs.rmSync(this.packageMetaFile, { force: true });
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Writes all of `bytes` at `position`: a write may take fewer bytes than asked (a nearly full disk), and the rest
 * must not be left as a hole that only the digests taken from the received bytes would not see.
 */
function writeFully(fd: number, bytes: Uint8Array, position: number, chunk: number): void {
  for (let done = 0; done < bytes.length; ) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new DownloadFailure('disk', `chunk ${chunk}: the disk took ${done} of its ${bytes.length} bytes`);
    done += n;
  }
}

function diskFreeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}
