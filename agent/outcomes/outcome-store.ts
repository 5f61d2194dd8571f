import type { Db } from '../store/database';
import type { Channel, PurgeFilter } from '../engagement/types';
import type { DeliveryState, OutcomeHistory, PresenceRecord, PurchaseRecord, TriggerRecord } from './types';

export interface IndexSample {
  profile: string;
  campaign: string;
  at: number;
  index: number;
  trigger: boolean;
}

interface TriggerRow {
  id: string;
  profile: string;
  campaign: string;
  device: string | null;
  at: number;
  channels: string;
  delivery: DeliveryState;
  delivery_error: string | null;
  delivered_at: number | null;
}

const toTrigger = (r: TriggerRow): TriggerRecord => ({
  id: r.id,
  profile: r.profile,
  campaign: r.campaign,
  device: r.device,
  at: r.at,
  channels: JSON.parse(r.channels) as Channel[],
  delivery: r.delivery,
  deliveryError: r.delivery_error,
  deliveredAt: r.delivered_at,
});

/** SQLite side of the outcome metrics (migration 4): what the metrics need survives restarts. */
export class OutcomeStore {
  constructor(private readonly db: Db) {}

  /** True when the database has the outcome tables (a database from before migration 4 has not). */
  static available(db: Db): boolean {
    return (
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outcome_triggers'").get() !==
      undefined
    );
  }

  insertTrigger(t: TriggerRecord): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO outcome_triggers (id, profile, campaign, device, at, channels, delivery, delivery_error, delivered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.id,
        t.profile,
        t.campaign,
        t.device,
        t.at,
        JSON.stringify(t.channels),
        t.delivery,
        t.deliveryError,
        t.deliveredAt,
      );
  }

  setDelivery(id: string, state: DeliveryState, error: string | null, deliveredAt: number | null): void {
    this.db
      .prepare('UPDATE outcome_triggers SET delivery = ?, delivery_error = ?, delivered_at = ? WHERE id = ?')
      .run(state, error, deliveredAt, id);
  }

  /** Deliveries left pending by a stop or crash: the ack can no longer arrive for them. */
  failPending(reason: string): number {
    return this.db
      .prepare(
        "UPDATE outcome_triggers SET delivery = 'failed', delivery_error = ? WHERE delivery = 'pending'",
      )
      .run(reason).changes;
  }

  trigger(id: string): TriggerRecord | undefined {
    const r = this.db.prepare('SELECT * FROM outcome_triggers WHERE id = ?').get(id) as
      TriggerRow | undefined;
    return r ? toTrigger(r) : undefined;
  }

  recentTriggers(limit: number): TriggerRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM outcome_triggers ORDER BY at DESC, id LIMIT ?')
        .all(limit) as TriggerRow[]
    ).map(toTrigger);
  }

  insertPurchase(p: PurchaseRecord & { category: string | null }): boolean {
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO outcome_events (kind, profile, campaign, device, category, at, source, trigger_id)
         VALUES ('purchase', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(p.profile, p.campaign, p.device, p.category, p.at, p.source, p.trigger);
    return r.changes > 0;
  }

  insertPresence(p: PresenceRecord & { category: string }): void {
    this.db
      .prepare(
        `INSERT INTO outcome_events (kind, profile, campaign, device, category, at, source, trigger_id)
         VALUES (?, ?, ?, ?, ?, ?, 'device', NULL)`,
      )
      .run(
        p.kind === 'start' ? 'presence_start' : 'presence_end',
        p.profile,
        p.campaign,
        p.device,
        p.category,
        p.at,
      );
  }

  history(): OutcomeHistory {
    const triggers = (
      this.db.prepare('SELECT * FROM outcome_triggers ORDER BY at').all() as TriggerRow[]
    ).map(toTrigger);
    const rows = this.db
      .prepare(
        'SELECT kind, profile, campaign, device, at, source, trigger_id FROM outcome_events ORDER BY at, id',
      )
      .all() as Array<{
      kind: string;
      profile: string;
      campaign: string;
      device: string | null;
      at: number;
      source: 'device' | 'upstream';
      trigger_id: string | null;
    }>;
    const purchases: PurchaseRecord[] = [];
    const presence: PresenceRecord[] = [];
    for (const r of rows) {
      if (r.kind === 'purchase')
        purchases.push({
          profile: r.profile,
          campaign: r.campaign,
          device: r.device,
          at: r.at,
          source: r.source,
          trigger: r.trigger_id,
        });
      else if (r.device !== null)
        presence.push({
          profile: r.profile,
          campaign: r.campaign,
          device: r.device,
          kind: r.kind === 'presence_start' ? 'start' : 'end',
          at: r.at,
        });
    }
    return { triggers, purchases, presence };
  }

  /** Adds an index sample and keeps only the newest `maxPerKey` of that key. */
  sample(s: IndexSample, maxPerKey: number): void {
    this.db
      .prepare('INSERT INTO index_samples (profile, campaign, at, idx, trigger) VALUES (?, ?, ?, ?, ?)')
      .run(s.profile, s.campaign, s.at, s.index, s.trigger ? 1 : 0);
    this.db
      .prepare(
        `DELETE FROM index_samples WHERE profile = ? AND campaign = ? AND rowid NOT IN
           (SELECT rowid FROM index_samples WHERE profile = ? AND campaign = ? ORDER BY at DESC, rowid DESC LIMIT ?)`,
      )
      .run(s.profile, s.campaign, s.profile, s.campaign, maxPerKey);
  }

  samples(filter: { campaign?: string; since?: number } = {}): IndexSample[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (filter.campaign !== undefined) {
      where.push('campaign = ?');
      args.push(filter.campaign);
    }
    if (filter.since !== undefined) {
      where.push('at >= ?');
      args.push(filter.since);
    }
    const rows = this.db
      .prepare(
        `SELECT profile, campaign, at, idx, trigger FROM index_samples${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY profile, campaign, at, rowid`,
      )
      .all(...args) as Array<{ profile: string; campaign: string; at: number; idx: number; trigger: number }>;
    return rows.map((r) => ({
      profile: r.profile,
      campaign: r.campaign,
      at: r.at,
      index: r.idx,
      trigger: r.trigger === 1,
    }));
  }

  /**
   * Erasure with a consent withdrawal, in the engagement purge's terms: a campaign withdrawal (profile, campaign)
   * removes that household's triggers, purchases, presence and index samples for it; a device withdrawal removes
   * what that device (category) contributed. Returns the rows removed.
   */
  purge(f: PurgeFilter): number {
    const where: string[] = [];
    const args: string[] = [];
    if (f.profile !== undefined) {
      where.push('profile = ?');
      args.push(f.profile);
    }
    if (f.campaign !== undefined) {
      where.push('campaign = ?');
      args.push(f.campaign);
    }
    if (f.device === undefined) {
      if (where.length === 0) throw new Error('outcome purge needs a scope');
      const w = ` WHERE ${where.join(' AND ')}`;
      let n = this.db.prepare(`DELETE FROM outcome_events${w}`).run(...args).changes;
      n += this.db.prepare(`DELETE FROM outcome_triggers${w}`).run(...args).changes;
      n += this.db.prepare(`DELETE FROM index_samples${w}`).run(...args).changes;
      return n;
    }
    where.push('device = ?');
    args.push(f.device);
    if (f.category !== undefined) {
      where.push('category = ?');
      args.push(f.category);
    }
    return this.db.prepare(`DELETE FROM outcome_events WHERE ${where.join(' AND ')}`).run(...args).changes;
  }

  /** The index history of one household (all campaigns). */
  purgeSamples(profile: string): number {
    return this.db.prepare('DELETE FROM index_samples WHERE profile = ?').run(profile).changes;
  }

  /** Retention: everything older than `before` goes. */
  sweep(before: number): number {
    let n = this.db.prepare('DELETE FROM outcome_events WHERE at < ?').run(before).changes;
    n += this.db.prepare('DELETE FROM outcome_triggers WHERE at < ?').run(before).changes;
    n += this.db.prepare('DELETE FROM index_samples WHERE at < ?').run(before).changes;
    return n;
  }
}
