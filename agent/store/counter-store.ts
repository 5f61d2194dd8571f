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
    const changed = [...values].filter(([k, v]) => this.saved.get(k) !== v);
    if (changed.length === 0) return;
    const up = this.db.prepare(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => {
      for (const [k, v] of changed) up.run(k, v);
    })();
    for (const [k, v] of changed) this.saved.set(k, v);
  }
}
