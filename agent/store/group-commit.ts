import type { Db } from './database';

export interface GroupCommitOptions {
  /** Longest a write waits for companions before it is committed. */
  maxDelayMs: number;
  /** Commit as soon as this many writes are queued. */
  maxRows: number;
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

  constructor(
    private readonly db: Db,
    private readonly opts: GroupCommitOptions,
  ) {}

  get pending(): number {
    return this.works.length;
  }

  submit(work: Work, done: Done): void {
    this.works.push(work);
    this.dones.push(done);
    if (this.works.length >= this.opts.maxRows) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.opts.maxDelayMs);
    }
  }

  /** Convenience for callers that prefer a promise. */
  submitAsync(work: Work): Promise<void> {
    return new Promise((resolve, reject) => this.submit(work, (err) => (err ? reject(err) : resolve())));
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.works.length === 0) return;
    const works = this.works;
    const dones = this.dones;
    this.works = [];
    this.dones = [];
    let batchError: Error | null = null;
    try {
      this.db.transaction(() => {
        for (const w of works) w();
      })();
    } catch (err) {
      batchError = err instanceof Error ? err : new Error(String(err));
    }
    if (batchError === null) {
      this.stats.commits++;
      this.stats.rows += works.length;
      for (const d of dones) d(null);
      return;
    }
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

  close(): void {
    this.flush();
  }
}
