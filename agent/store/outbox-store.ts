import type { Statement } from 'better-sqlite3';
import type { Db } from './database';

export type OutboxKind = 'signal' | 'telemetry' | 'consent';

export interface OutboxRow {
  id: number;
  signalId: string;
  kind: OutboxKind;
  profile: string | null;
  campaign: string | null;
  device: string | null;
  category: string | null;
  payload: string;
  bytes: number;
  createdAt: number;
}

export interface OutboxScope {
  profile?: string;
  campaign?: string;
  device?: string;
  category?: string;
}

/**
 * Durable store-and-forward queue (DESIGN §6). Rows are ordered by `id`; a row is deleted only after the broker
 * acknowledged it. `signalId` is the idempotency key upstream dedupes on.
 */
export class OutboxStore {
  private readonly ins: Statement;
  private readonly del: Statement;
  private readonly countStmt: Statement;
  private readonly oldestStmt: Statement;
  private readonly peekStmt: Statement;
  private readonly anyStmt: Statement;

  constructor(private readonly db: Db) {
    this.ins = db.prepare(
      `INSERT INTO outbox (signal_id, kind, profile, campaign, device, category, payload, bytes, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.del = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.countStmt = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM outbox');
    this.oldestStmt = db.prepare('SELECT min(created_at) AS t FROM outbox');
    this.anyStmt = db.prepare('SELECT 1 FROM outbox LIMIT 1');
    this.peekStmt = db.prepare(
      `SELECT id, signal_id AS signalId, kind, profile, campaign, device, category, payload, bytes, created_at AS createdAt
       FROM outbox WHERE id > ? ORDER BY id LIMIT ?`,
    );
  }

  enqueue(row: Omit<OutboxRow, 'id' | 'bytes'>): void {
    this.ins.run(
      row.signalId,
      row.kind,
      row.profile,
      row.campaign,
      row.device,
      row.category,
      row.payload,
      Buffer.byteLength(row.payload),
      row.createdAt,
    );
  }

  /** Oldest rows after `afterId`, in publish order. */
  peek(limit: number, afterId = 0): OutboxRow[] {
    return this.peekStmt.all(afterId, limit) as OutboxRow[];
  }

  remove(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.del.run(id);
    })();
  }

  depth(): { pending: number; bytes: number } {
    const r = this.countStmt.get() as { n: number; bytes: number };
    return { pending: r.n, bytes: r.bytes };
  }

  /** Cheap where `depth()` would count a large backlog. */
  isEmpty(): boolean {
    return this.anyStmt.get() === undefined;
  }

  oldestCreatedAt(): number | null {
    return (this.oldestStmt.get() as { t: number | null }).t;
  }

  /** Removes queued rows in a withdrawn scope so nothing consented-away is ever sent; returns how many. */
  purge(scope: OutboxScope): number {
    const where: string[] = [];
    const args: string[] = [];
    for (const k of ['profile', 'campaign', 'device', 'category'] as const) {
      const v = scope[k];
      if (v !== undefined) {
        where.push(`${k} = ?`);
        args.push(v);
      }
    }
    if (where.length === 0) throw new Error('outbox purge needs a scope');
    // Consent receipts are the household's proof: never purged by a withdrawal.
    return this.db.prepare(`DELETE FROM outbox WHERE kind != 'consent' AND ${where.join(' AND ')}`).run(...args).changes;
  }
}
