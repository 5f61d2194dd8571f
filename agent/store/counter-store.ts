import type { Db } from './database';

/** Named monotonic counters persisted across restarts (ingest totals, drops by reason). */
export class CounterStore {
  constructor(private readonly db: Db) {}

  load(): Map<string, number> {
    const rows = this.db.prepare('SELECT name, value FROM counters').all() as Array<{ name: string; value: number }>;
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  save(values: ReadonlyMap<string, number>): void {
    const up = this.db.prepare(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => {
      for (const [k, v] of values) up.run(k, v);
    })();
  }
}
