import type { CampaignConfig } from '../config/types';
import type { Db } from './database';

const KEY = 'campaigns.upstream';

/** Campaign definitions received from upstream, kept across restarts (in `meta`, one JSON document). */
export class CampaignStore {
  constructor(private readonly db: Db) {}

  load(): CampaignConfig[] {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as CampaignConfig[]) : [];
  }

  save(c: CampaignConfig): void {
    const all = this.load().filter((x) => x.id !== c.id);
    all.push(c);
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(KEY, JSON.stringify(all));
  }
}
