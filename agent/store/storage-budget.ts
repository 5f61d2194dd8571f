import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Db } from './database';

/**
 * What goes first when `storage.maxBytes` is reached, in order. Consent receipts, the consent ledger and the
 * engagement state are never dropped: they are the household's proof and the product's decisions.
 */
export const DROP_ORDER = [
  { reason: 'raw_readings', sql: 'DELETE FROM readings WHERE id IN (SELECT id FROM readings ORDER BY id LIMIT ?)' },
  { reason: 'raw_events', sql: 'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)' },
  { reason: 'outbox_telemetry', sql: "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE kind = 'telemetry' ORDER BY id LIMIT ?)" },
  // index updates are superseded by later ones; triggers are what campaigns act on
  {
    reason: 'outbox_index_updates',
    sql: "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE kind = 'signal' AND json_extract(payload, '$.trigger') = 0 ORDER BY id LIMIT ?)",
  },
  { reason: 'outbox_triggers', sql: "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE kind = 'signal' ORDER BY id LIMIT ?)" },
] as const;

export type DropReason = (typeof DROP_ORDER)[number]['reason'];

/** Dropping stops once usage is back under this share of the budget, so it does not run on every check. */
const LOW_WATER = 0.9;
const CHUNK = 500;
/** Free space on the data directory's filesystem above which a disk-full limit is lifted again. */
const DISK_ROOM_BYTES = 4 * 1024 * 1024;
/**
 * `<dataDir>/space-reserve`: zeros the agent keeps on disk and deletes when the disk fills. Without it a full
 * disk deadlocks: deleting rows needs WAL space, and checkpointing the WAL needs room for the database to grow
 * (up to WAL_CHECKPOINT_BYTES = 4 MiB, database.ts). 8 MiB, or a quarter of a small filesystem.
 */
export const RESERVE_FILE = 'space-reserve';
const RESERVE_MAX_BYTES = 8 * 1024 * 1024;

/** SQLite could not grow the database or its WAL: the filesystem is full (SQLITE_FULL, or ENOSPC underneath). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || /database or disk is full|ENOSPC/.test(String(err));
}

/** Bytes in the pages the database uses (page_count minus the freelist): what `storage.maxBytes` bounds. */
export function databaseBytesInUse(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

/**
 * Keeps the database under `storage.maxBytes` (DESIGN §6–7). Usage is the pages in use (page_count minus the
 * free list): deleted rows free pages that SQLite reuses, so the file stops growing without a VACUUM. When only
 * undroppable data is left, `full` is set and the pipeline stops accepting frames (devices keep them and
 * retransmit): nothing acked is ever dropped silently.
 */
export class StorageBudget {
  readonly dropped = new Map<DropReason, number>();
  full = false;
  /**
   * Set when a write failed because the disk is full: the bytes in use then become the limit (below maxBytes),
   * so the same drop policy frees pages inside the database for new data. Lifted when the filesystem has room.
   */
  diskLimit: number | null = null;
  /** a write just failed on the full disk: drop to the low-water mark even though usage equals the limit */
  private dropNow = false;
  private readonly stmts: Array<{ reason: DropReason; run: (n: number) => number }>;

  constructor(
    private readonly db: Db,
    readonly maxBytes: number,
  ) {
    this.stmts = DROP_ORDER.map((d) => {
      const st = db.prepare(d.sql);
      return { reason: d.reason, run: (n: number) => st.run(n).changes };
    });
  }

  usedBytes(): number {
    return databaseBytesInUse(this.db);
  }

  /** The limit in force: storage.maxBytes, or less while the disk is full. */
  get limitBytes(): number {
    return Math.min(this.maxBytes, this.diskLimit ?? Infinity);
  }

  /**
   * Asked for every data frame. Normally the verdict of the last check; while the disk is full, usage is
   * compared with the limit at once (three pragmas), because one second of a burst would overrun the room the
   * policy made, and a database that cannot grow cannot even delete.
   */
  refuseNow(): boolean {
    if (this.full) return true;
    return this.diskLimit !== null && this.usedBytes() >= this.diskLimit;
  }

  /** A write failed with SQLITE_FULL: what is in use now is all the disk holds. */
  onDiskFull(): void {
    this.diskLimit = Math.min(this.diskLimit ?? Infinity, this.usedBytes());
    this.dropNow = true;
    if (this.db.name !== ':memory:') fs.rmSync(this.reservePath, { force: true }); // room to checkpoint and delete
  }

  private filesystem(): { free: number; size: number } | null {
    if (this.db.name === ':memory:' || this.db.name === '') return null;
    try {
      const st = fs.statfsSync(path.dirname(this.db.name));
      return { free: st.bavail * st.bsize, size: st.blocks * st.bsize };
    } catch {
      return null;
    }
  }

  private get reservePath(): string {
    return path.join(path.dirname(this.db.name), RESERVE_FILE);
  }

  /** Writes the reserve file when it is missing and the disk has room for it and more. */
  private keepReserve(fsInfo: { free: number; size: number }): void {
    const size = Math.min(RESERVE_MAX_BYTES, Math.floor(fsInfo.size / 4));
    if (fs.existsSync(this.reservePath) || fsInfo.free < size + DISK_ROOM_BYTES) return;
    try {
      // Real zeros, not a sparse file: the blocks are held. Written 64 KiB at a time: one buffer of the whole
      // reserve (8 MiB) stayed in the process's RSS until V8 happened to collect it.
      const zeros = Buffer.alloc(Math.min(size, 64 * 1024));
      const fd = fs.openSync(this.reservePath, 'w', 0o600);
      try {
        for (let done = 0; done < size; ) done += fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - done));
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      fs.rmSync(this.reservePath, { force: true }); // no room after all: try again at the next check
    }
  }

  /** Drops in policy order until under the low-water mark; returns what it dropped now. */
  enforce(): Partial<Record<DropReason, number>> {
    const now: Partial<Record<DropReason, number>> = {};
    const fsInfo = this.filesystem();
    if (this.diskLimit !== null) {
      const reserve = fsInfo ? Math.min(RESERVE_MAX_BYTES, Math.floor(fsInfo.size / 4)) : 0;
      if (fsInfo !== null && fsInfo.free > reserve + DISK_ROOM_BYTES) {
        this.diskLimit = null; // space returned (enough for the reserve and more)
        this.dropNow = false;
      }
      else {
        // Deleting needs WAL space too: checkpoint so the WAL file is reused from its start. RESTART, not
        // TRUNCATE: the WAL keeps the blocks it has, which a full disk could not give back to it.
        try {
          this.db.pragma('wal_checkpoint(RESTART)');
        } catch {
          // a checkpoint that cannot run now is retried at the next check
        }
      }
    }
    if (this.diskLimit === null && fsInfo !== null) this.keepReserve(fsInfo);
    const limit = this.limitBytes;
    const dropNow = this.dropNow;
    this.dropNow = false;
    if (this.usedBytes() <= limit && !dropNow) {
      this.full = false;
      return now;
    }
    const target = limit * LOW_WATER;
    for (const s of this.stmts) {
      while (this.usedBytes() > target) {
        const n = this.db.transaction(() => s.run(CHUNK))();
        if (n === 0) break;
        now[s.reason] = (now[s.reason] ?? 0) + n;
        this.dropped.set(s.reason, (this.dropped.get(s.reason) ?? 0) + n);
      }
      if (this.usedBytes() <= target) break;
    }
    this.full = this.usedBytes() > limit;
    return now;
  }

  total(): number {
    let n = 0;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  toMap(): Map<string, number> {
    return new Map([...this.dropped].map(([k, v]) => [`dropped.${k}`, v]));
  }

  restore(m: ReadonlyMap<string, number>): void {
    for (const d of DROP_ORDER) {
      const v = m.get(`dropped.${d.reason}`);
      if (v !== undefined) this.dropped.set(d.reason, v);
    }
  }
}
