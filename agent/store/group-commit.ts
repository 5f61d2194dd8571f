import * as fs from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database';

export interface GroupCommitOptions {
  /**
   * Longest a write waits for companions before it is committed (see `targetRows` for how long it actually waits).
   * Every commit writes whole pages for every table and index it touches, so this also bounds the write rate
   * whenever traffic is sparse or moderate: at most one commit per `maxDelayMs` (issue #24).
   */
  maxDelayMs: number;
  /** Commit as soon as this many writes are queued. */
  maxRows: number;
  /**
   * The commit cadence adapts to the arrival rate: a batch waits about as long as `targetRows` writes take to
   * arrive (at the recent rate), within [`minDelayMs`, `maxDelayMs`]. Fast traffic gets short waits and still full
   * batches; moderate traffic waits up to `maxDelayMs` and shares one commit; traffic so sparse that no companion
   * is expected within `maxDelayMs` is committed after `minDelayMs`, since waiting would buy nothing. Default 64.
   */
  targetRows?: number;
  /** The shortest wait; default min(5, maxDelayMs). */
  minDelayMs?: number;
  /**
   * Make timer- and size-triggered batches durable off the event loop: commit with synchronous=NORMAL (SQLite
   * writes the WAL but does not fsync it) and fsync the WAL file on libuv's thread pool, calling `done` (the acks)
   * only once that fsync returned. What is acked is as durable as with synchronous=FULL, but decoding and decisions
   * no longer stall behind the disk, and one fsync covers every batch committed while the previous one ran.
   * Explicit `flush()` stays synchronous and fully durable on return. Only for a WAL database in a file.
   */
  fsyncOffLoop?: boolean;
  /**
   * With `fsyncOffLoop`: a position taken around each batch (the outbox's newest row id), so that readers can
   * tell rows that are durable from rows committed but still waiting for the fsync (see `durableMark`). An
   * uplink must never publish a signal whose event a power cut could still take back.
   */
  mark?: () => number;
  /** Called when waiting batches became durable (the uplink rechecks what it may publish). */
  onDurable?: () => void;
}

/**
 * How long a batch waits for companions, given the recent mean gap between writes (see
 * `GroupCommitOptions.targetRows`): about the time `targetRows` writes take, within [minDelayMs, maxDelayMs]; the
 * minimum when not even one companion is expected within `maxDelayMs`.
 */
export function commitDelayMs(gapMs: number, o: Pick<GroupCommitOptions, 'maxDelayMs' | 'minDelayMs' | 'targetRows'>): number {
  const max = o.maxDelayMs;
  const min = Math.min(o.minDelayMs ?? 5, max);
  if (!(gapMs < max)) return min;
  return Math.min(max, Math.max(min, (o.targetRows ?? 64) * gapMs));
}

type Work = () => void;
type Done = (err: Error | null) => void;

export interface GroupCommitStats {
  commits: number;
  rows: number;
  failures: number;
}

/**
 * Batches many small writes into one transaction (one fsync with synchronous=FULL) and calls each write's
 * `done` only after that transaction is durable — the hook frame acks hang off (DESIGN §3, §7).
 * A write that throws does not sink its companions: the batch is rolled back and replayed one write per
 * transaction, so only the bad write reports an error.
 */
export class GroupCommitter {
  private works: Work[] = [];
  private dones: Done[] = [];
  private timer: NodeJS.Timeout | null = null;
  readonly stats: GroupCommitStats = { commits: 0, rows: 0, failures: 0 };
  /** The WAL file fsynced off the loop, or null when `fsyncOffLoop` is off or the database has no WAL file. */
  private readonly walFile: string | null;
  private readonly syncNormal: Statement | null = null;
  private readonly syncFull: Statement | null = null;
  /** Committed batches whose dones wait for the background fsync, oldest first. */
  private waiting: Array<{ batch: number; dones: Done[]; mark: number }> = [];
  /** `mark` as of the newest batch known durable (while batches wait for their fsync) */
  private settledMark = 0;
  private batches = 0;
  private fsyncRunning = false;
  /** Recent mean gap between submits (ms, exponentially weighted); Infinity until there were two. */
  private gapMs = Infinity;
  private lastSubmitAt = -Infinity;

  constructor(
    private readonly db: Db,
    private readonly opts: GroupCommitOptions,
  ) {
    const wal = opts.fsyncOffLoop === true && !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.walFile = wal ? `${db.name}-wal` : null;
    if (wal) {
      this.syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
      this.syncFull = db.prepare('PRAGMA synchronous = FULL');
    }
  }

  get pending(): number {
    return this.works.length;
  }

  /** Nothing queued, nothing committed still waiting for its fsync: every write so far has had its `done`. */
  get idle(): boolean {
    return this.works.length === 0 && this.waiting.length === 0;
  }

  submit(work: Work, done: Done): void {
    const now = performance.now();
    const gap = now - this.lastSubmitAt;
    this.lastSubmitAt = now;
    if (gap !== Infinity) this.gapMs = this.gapMs === Infinity ? gap : this.gapMs * 0.9 + gap * 0.1;
    this.works.push(work);
    this.dones.push(done);
    if (this.works.length >= this.opts.maxRows) {
      this.commit(this.walFile !== null);
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.commit(this.walFile !== null), this.delayMs());
    }
  }

  /** How long the batch this write opens waits for companions (see `targetRows`). */
  delayMs(): number {
    return commitDelayMs(this.gapMs, this.opts);
  }

  /** Convenience for callers that prefer a promise. */
  submitAsync(work: Work): Promise<void> {
    return new Promise((resolve, reject) => this.submit(work, (err) => (err ? reject(err) : resolve())));
  }

  /** Commits what is queued now, durably (synchronous=FULL) before it returns; every done has been called. */
  flush(): void {
    this.commit(false);
  }

  private commit(offLoop: boolean): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.works.length === 0) {
      if (!offLoop && this.waiting.length > 0) this.syncWalNow();
      return;
    }
    // Inside a caller's transaction the pragma would not apply to this commit: stay synchronous.
    const background = offLoop && !this.db.inTransaction;
    const works = this.works;
    const dones = this.dones;
    this.works = [];
    this.dones = [];
    let batchError: Error | null = null;
    const markBefore = background ? (this.opts.mark?.() ?? 0) : 0;
    if (background) this.syncNormal?.run();
    try {
      this.db.transaction(() => {
        for (const w of works) w();
      })();
    } catch (err) {
      batchError = err instanceof Error ? err : new Error(String(err));
    } finally {
      if (background) this.syncFull?.run();
    }
    if (batchError === null) {
      this.stats.commits++;
      this.stats.rows += works.length;
      if (background) {
        // Everything before this batch is durable when nothing else waits (FULL commits sync the whole WAL).
        if (this.waiting.length === 0) this.settledMark = markBefore;
        this.waiting.push({ batch: ++this.batches, dones, mark: this.opts.mark?.() ?? 0 });
        this.fsyncWal();
        return;
      }
      // A FULL commit's fsync also covered the WAL frames of batches still waiting for the background fsync.
      this.settle(Infinity, null);
      for (const d of dones) d(null);
      return;
    }
    if (this.waiting.length > 0) this.syncWalNow(); // earlier batches first, whatever the replay does
    // Slow path: isolate the failing write(s). A disk-full error fails them all, which is the truth.
    for (let i = 0; i < works.length; i++) {
      try {
        this.db.transaction(works[i])();
        this.stats.commits++;
        this.stats.rows++;
        dones[i](null);
      } catch (err) {
        this.stats.failures++;
        dones[i](err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /**
   * One fsync of the WAL at a time on the thread pool. It covers every batch committed before it started; batches
   * committed meanwhile wait for the next one, so under load each fsync makes more batches durable at once.
   */
  private fsyncWal(): void {
    if (this.fsyncRunning || this.walFile === null) return;
    this.fsyncRunning = true;
    const upTo = this.batches;
    const finished = (err: NodeJS.ErrnoException | null): void => {
      this.fsyncRunning = false;
      this.settle(upTo, err ? new Error(`WAL fsync failed: ${err.message}`) : null);
      if (this.waiting.length > 0) this.fsyncWal();
    };
    fs.open(this.walFile, 'r', (openErr, fd) => {
      if (openErr) return finished(openErr);
      fs.fsync(fd, (syncErr) => fs.close(fd, () => finished(syncErr)));
    });
  }

  /** fsync of the WAL on the loop (explicit flush, failure path): settles every waiting batch if it succeeds. */
  private syncWalNow(): void {
    if (this.walFile === null) return;
    try {
      const fd = fs.openSync(this.walFile, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return; // left to the background fsync, which reports its own error
    }
    this.settle(Infinity, null);
  }

  /** Calls the dones of waiting batches up to `upTo`, in commit order (an error: not durable, so not acked). */
  private settle(upTo: number, err: Error | null): void {
    let settled = false;
    while (this.waiting.length > 0 && this.waiting[0].batch <= upTo) {
      const w = this.waiting.shift()!;
      if (err) this.stats.failures += w.dones.length;
      else this.settledMark = w.mark;
      settled = true;
      for (const d of w.dones) d(err);
    }
    if (settled && !err) this.opts.onDurable?.();
  }

  /**
   * The `mark` up to which committed rows are durable: Infinity when no batch waits for its fsync (every other
   * commit is synchronous=FULL), else the mark of the newest batch whose fsync returned.
   */
  durableMark(): number {
    return this.waiting.length === 0 ? Infinity : this.settledMark;
  }

  /** Commits and settles everything (synchronously durable) — before the database closes. */
  close(): void {
    this.flush();
  }
}
