import type { Db } from './database';

/** Named monotonic counters persisted across restarts (ingest totals, drops by reason). */
export class CounterStore {
  /** What the table holds, as far as this process knows: a save writes only what differs (issue #24: a quiet
   * gateway rewrote every counter every 5 s, a commit and an fsync each time, for nothing). */
  private readonly saved = new Map<string, number>();

  constructor(private readonly db: Db) {}

  load(): Map<string, number> {
    const rows = this.db.prepare('SELECT name, value FROM counters').all() as Array<{ name: string; value: number }>;
    for (const r of rows) this.saved.set(r.name, r.value);
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  /** Writes the counters that changed since the last save or load; nothing at all when none did. */
  save(values: ReadonlyMap<string, number>): void {
    const w = this.changes(values);
    if (w === null) return;
    this.db.transaction(w.write)();
    w.written();
  }

  /**
   * The write that stores the counters changed since the last save or load (null when none did), for a caller
   * that runs it inside another transaction (the group commit: no commit and fsync of its own, issue #24), and
   * `written()` to call once that transaction committed.
   */
  changes(values: ReadonlyMap<string, number>): { write: () => void; written: () => void } | null {
    const changed = [...values].filter(([k, v]) => this.saved.get(k) !== v);
    if (changed.length === 0) return null;
    const up = this.db.prepare(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    return {
      write: () => {
        for (const [k, v] of changed) up.run(k, v);
      },
      written: () => {
        for (const [k, v] of changed) this.saved.set(k, v);
      },
    };
  }
}
