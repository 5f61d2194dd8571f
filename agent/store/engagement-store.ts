import type { Statement } from 'better-sqlite3';
import type { EngagementSnapshot, KeySnapshot, StateChange } from '../engagement/types';
import type { Db } from './database';

/**
 * Persists the engagement engine's delta log (DESIGN §4: state survives restarts). `apply` runs inside the
 * group-commit transaction of the frame that caused the change, so state and raw event commit together.
 */
export class EngagementStore {
  private readonly insEvent: Statement;
  private readonly prune: Statement;
  private readonly upsertState: Statement;
  private readonly setClock: Statement;

  constructor(private readonly db: Db) {
    this.insEvent = db.prepare('INSERT INTO engagement_events (profile, campaign, t, device, category) VALUES (?, ?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM engagement_events WHERE profile = ? AND campaign = ? AND t <= ?');
    this.upsertState = db.prepare(`
      INSERT INTO engagement_state (profile, campaign, armed, last_trigger_at, v) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (profile, campaign) DO UPDATE SET armed = excluded.armed,
        last_trigger_at = excluded.last_trigger_at, v = excluded.v`);
    this.setClock = db.prepare(
      "INSERT INTO meta (key, value) VALUES ('engagement.now', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
  }

  apply(changes: readonly StateChange[]): void {
    for (const c of changes) {
      switch (c.op) {
        case 'event':
          this.insEvent.run(c.profile, c.campaign, c.t, c.device, c.category);
          break;
        case 'prune':
          this.prune.run(c.profile, c.campaign, c.before);
          break;
        case 'state':
          this.upsertState.run(c.profile, c.campaign, c.armed ? 1 : 0, c.lastTriggerAt, c.v);
          break;
        case 'clock':
          this.setClock.run(String(c.now));
          break;
        case 'purge': {
          const where: string[] = [];
          const args: string[] = [];
          if (c.profile !== undefined) {
            where.push('profile = ?');
            args.push(c.profile);
          }
          if (c.campaign !== undefined) {
            where.push('campaign = ?');
            args.push(c.campaign);
          }
          const w = where.length ? ` WHERE ${where.join(' AND ')}` : '';
          if (c.device === undefined) {
            this.db.prepare(`DELETE FROM engagement_events${w}`).run(...args);
            this.db.prepare(`DELETE FROM engagement_state${w}`).run(...args);
            break;
          }
          // Source-scoped erasure: only that device's (category's) events; trigger state stays.
          where.push('device = ?');
          args.push(c.device);
          if (c.category !== undefined) {
            where.push('category = ?');
            args.push(c.category);
          }
          this.db.prepare(`DELETE FROM engagement_events WHERE ${where.join(' AND ')}`).run(...args);
          break;
        }
      }
    }
  }

  load(): EngagementSnapshot {
    const keys = new Map<string, KeySnapshot>();
    const get = (profile: string, campaign: string): KeySnapshot => {
      const k = `${profile}\u0000${campaign}`;
      let s = keys.get(k);
      if (!s) {
        s = { profile, campaign, events: [], sources: [], armed: true, lastTriggerAt: null, v: null };
        keys.set(k, s);
      }
      return s;
    };
    const clock = this.db.prepare("SELECT value FROM meta WHERE key = 'engagement.now'").get() as { value: string } | undefined;
    let now = clock ? Number(clock.value) : 0;
    const events = this.db
      .prepare('SELECT profile, campaign, t, device, category FROM engagement_events ORDER BY profile, campaign, t')
      .all() as Array<{ profile: string; campaign: string; t: number; device: string; category: string }>;
    for (const e of events) {
      const k = get(e.profile, e.campaign);
      k.events.push(e.t);
      k.sources!.push({ device: e.device, category: e.category });
      if (e.t > now) now = e.t;
    }
    const states = this.db.prepare('SELECT profile, campaign, armed, last_trigger_at, v FROM engagement_state').all() as Array<{
      profile: string;
      campaign: string;
      armed: number;
      last_trigger_at: number | null;
      v: number | null;
    }>;
    for (const s of states) {
      const k = get(s.profile, s.campaign);
      k.armed = s.armed === 1;
      k.lastTriggerAt = s.last_trigger_at;
      k.v = s.v;
      if (s.last_trigger_at !== null && s.last_trigger_at > now) now = s.last_trigger_at;
    }
    return { version: 1, now, keys: [...keys.values()] };
  }
}
