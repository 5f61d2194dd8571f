import type { Statement } from 'better-sqlite3';
import type { Db } from './database';

export interface DeviceRecord {
  id: string;
  transport: string;
  profile: string | null;
  model: string | null;
  fw: string | null;
  channels: string;
  firstSeen: number | null;
  lastSeen: number | null;
}

/**
 * Prepared statements for what ingest writes: raw readings/events that passed consent, and the device registry.
 * Each method only writes; callers run them inside a GroupCommitter batch.
 */
export class IngestStore {
  private readonly insReading: Statement;
  private readonly insEvent: Statement;
  private readonly upsertDevice: Statement;
  private readonly touchDevice: Statement;

  constructor(private readonly db: Db) {
    this.insReading = db.prepare('INSERT INTO readings (device, ch, category, v, device_t, t) VALUES (?, ?, ?, ?, ?, ?)');
    this.insEvent = db.prepare(
      'INSERT INTO events (device, name, category, ch, v, device_t, t) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertDevice = db.prepare(`
      INSERT INTO devices (id, transport, profile, model, fw, channels, first_seen, last_seen)
      VALUES (@id, @transport, @profile, @model, @fw, @channels, @at, @at)
      ON CONFLICT (id) DO UPDATE SET transport = excluded.transport, profile = excluded.profile,
        model = excluded.model, fw = excluded.fw, channels = excluded.channels, last_seen = excluded.last_seen`);
    this.touchDevice = db.prepare('UPDATE devices SET last_seen = ? WHERE id = ?');
  }

  reading(device: string, ch: number, category: string, v: number, deviceT: number | undefined, t: number): void {
    this.insReading.run(device, ch, category, v, deviceT ?? null, t);
  }

  event(
    device: string,
    name: string,
    category: string,
    ch: number | undefined,
    v: number | undefined,
    deviceT: number | undefined,
    t: number,
  ): void {
    this.insEvent.run(device, name, category, ch ?? null, v ?? null, deviceT ?? null, t);
  }

  device(rec: {
    id: string;
    transport: string;
    profile: string | null;
    model: string;
    fw: string;
    channels: unknown;
    at: number;
  }): void {
    this.upsertDevice.run({ ...rec, channels: JSON.stringify(rec.channels) });
  }

  touch(device: string, at: number): void {
    this.touchDevice.run(at, device);
  }

  devices(): DeviceRecord[] {
    return (
      this.db
        .prepare(
          'SELECT id, transport, profile, model, fw, channels, first_seen AS firstSeen, last_seen AS lastSeen FROM devices ORDER BY id',
        )
        .all() as DeviceRecord[]
    );
  }

  /** Drops raw data older than `cutoff` (raw kept only as long as the engagement window needs, DESIGN §7). */
  sweep(cutoff: number): number {
    const a = this.db.prepare('DELETE FROM readings WHERE t < ?').run(cutoff).changes;
    const b = this.db.prepare('DELETE FROM events WHERE t < ?').run(cutoff).changes;
    return a + b;
  }

  /** Erasure of a device's raw data for one category (or all), after a consent withdrawal. */
  eraseDevice(device: string, category?: string): number {
    if (category === undefined) {
      return (
        this.db.prepare('DELETE FROM readings WHERE device = ?').run(device).changes +
        this.db.prepare('DELETE FROM events WHERE device = ?').run(device).changes
      );
    }
    return (
      this.db.prepare('DELETE FROM readings WHERE device = ? AND category = ?').run(device, category).changes +
      this.db.prepare('DELETE FROM events WHERE device = ? AND category = ?').run(device, category).changes
    );
  }
}
