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

/**
 * Keeps the database under `storage.maxBytes` (DESIGN §6–7). Usage is the pages in use (page_count minus the
 * free list): deleted rows free pages that SQLite reuses, so the file stops growing without a VACUUM. When only
 * undroppable data is left, `full` is set and the pipeline stops accepting frames (devices keep them and
 * retransmit): nothing acked is ever dropped silently.
 */
export class StorageBudget {
  readonly dropped = new Map<DropReason, number>();
  full = false;
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
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Drops in policy order until under the low-water mark; returns what it dropped now. */
  enforce(): Partial<Record<DropReason, number>> {
    const now: Partial<Record<DropReason, number>> = {};
    if (this.usedBytes() <= this.maxBytes) {
      this.full = false;
      return now;
    }
    const target = this.maxBytes * LOW_WATER;
    for (const s of this.stmts) {
      while (this.usedBytes() > target) {
        const n = this.db.transaction(() => s.run(CHUNK))();
        if (n === 0) break;
        now[s.reason] = (now[s.reason] ?? 0) + n;
        this.dropped.set(s.reason, (this.dropped.get(s.reason) ?? 0) + n);
      }
      if (this.usedBytes() <= target) break;
    }
    this.full = this.usedBytes() > this.maxBytes;
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
