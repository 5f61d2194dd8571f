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

/** What the registry knows about a device's last flash (migration 3). */
export interface FlashRecord {
  fw: string | null;
  profile: string | null;
  flashedAt: number | null;
  flashedFw: string | null;
  mac: string | null;
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
  /** prepared on first use, so read-only opens of a database before migration 5 still work */
  private insSeq: Statement | undefined;

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

  /**
   * After `edge-agent flash`: the hello of the freshly booted firmware plus what was flashed and when.
   * A device keeps its profile unless one is given (pairing during the flash). Prepared here, not in the
   * constructor, so read-only opens of an older schema (devices list) still work.
   */
  recordFlash(rec: {
    id: string;
    model: string;
    fw: string;
    channels: unknown;
    profile: string | null;
    mac: string | null;
    at: number;
  }): void {
    this.db
      .prepare(
        `INSERT INTO devices (id, transport, profile, model, fw, channels, first_seen, last_seen, flashed_at, flashed_fw, mac)
         VALUES (@id, 'serial', @profile, @model, @fw, @channels, @at, @at, @at, @fw, @mac)
         ON CONFLICT (id) DO UPDATE SET profile = COALESCE(excluded.profile, devices.profile), model = excluded.model,
           fw = excluded.fw, channels = excluded.channels, last_seen = excluded.last_seen,
           flashed_at = excluded.flashed_at, flashed_fw = excluded.flashed_fw, mac = COALESCE(excluded.mac, devices.mac)`,
      )
      .run({ ...rec, channels: JSON.stringify(rec.channels) });
  }

  flashRecord(id: string): FlashRecord | null {
    const row = this.db
      .prepare('SELECT fw, profile, flashed_at AS flashedAt, flashed_fw AS flashedFw, mac FROM devices WHERE id = ?')
      .get(id) as FlashRecord | undefined;
    return row ?? null;
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

  /** A data frame's seq, committed with the frame: the duplicate window across restarts (migration 5). */
  seenSeq(device: string, seq: number, at: number): void {
    (this.insSeq ??= this.db.prepare('INSERT OR REPLACE INTO device_seqs (device, seq, at) VALUES (?, ?, ?)')).run(device, seq, at);
  }

  /** Keeps the newest `keep` seqs of a device (the in-memory window's size). */
  trimSeqs(device: string, keep: number): void {
    this.db
      .prepare('DELETE FROM device_seqs WHERE device = ? AND at < (SELECT at FROM device_seqs WHERE device = ? ORDER BY at DESC LIMIT 1 OFFSET ?)')
      .run(device, device, keep - 1);
  }

  /** A hello starts a new window: the device's earlier seqs mean nothing any more. */
  clearSeqs(device: string): void {
    this.db.prepare('DELETE FROM device_seqs WHERE device = ?').run(device);
  }

  /** The committed seqs of a device since its last hello, oldest first. */
  seqs(device: string): number[] {
    return (this.db.prepare('SELECT seq FROM device_seqs WHERE device = ? ORDER BY at').all(device) as Array<{ seq: number }>).map((r) => r.seq);
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
