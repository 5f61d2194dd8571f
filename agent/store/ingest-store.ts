import type { Statement } from 'better-sqlite3';
import type { Db } from './database';

export interface DeviceRecord {
  id: string;
  transport: string;
  profile: string | null;
  model: string | null;
  fw: string | null;
  channels: string;
  /** JSON array of the last hello's `cap`, null for none (migration 7) */
  caps: string | null;
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
  /** the newest commit-order stamp used (see nextOrder); read from the database on first use */
  private lastOrder: number | null = null;

  constructor(private readonly db: Db) {
    this.insReading = db.prepare('INSERT INTO readings (device, ch, category, v, device_t, t) VALUES (?, ?, ?, ?, ?, ?)');
    this.insEvent = db.prepare(
      'INSERT INTO events (device, name, category, ch, v, device_t, t) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertDevice = db.prepare(`
      INSERT INTO devices (id, transport, profile, model, fw, channels, caps, first_seen, last_seen, hello_ord)
      VALUES (@id, @transport, @profile, @model, @fw, @channels, @caps, @at, @at, @ord)
      ON CONFLICT (id) DO UPDATE SET transport = excluded.transport, profile = excluded.profile,
        model = excluded.model, fw = excluded.fw, channels = excluded.channels, caps = excluded.caps,
        last_seen = excluded.last_seen, hello_ord = excluded.hello_ord`);
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

  /** A hello: registers or updates the device and starts its new duplicate window (seqs before it are ignored). */
  device(rec: {
    id: string;
    transport: string;
    profile: string | null;
    model: string;
    fw: string;
    channels: unknown;
    caps?: readonly string[];
    at: number;
  }): void {
    const caps = rec.caps && rec.caps.length > 0 ? JSON.stringify(rec.caps) : null;
    this.upsertDevice.run({ ...rec, channels: JSON.stringify(rec.channels), caps, ord: this.nextOrder() });
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
    /** the flashed firmware's hello `cap` (absent: not known, the stored ones are kept) */
    caps?: readonly string[];
    at: number;
  }): void {
    const caps = rec.caps && rec.caps.length > 0 ? JSON.stringify(rec.caps) : null;
    this.db
      .prepare(
        `INSERT INTO devices (id, transport, profile, model, fw, channels, caps, first_seen, last_seen, flashed_at, flashed_fw, mac)
         VALUES (@id, 'serial', @profile, @model, @fw, @channels, @caps, @at, @at, @at, @fw, @mac)
         ON CONFLICT (id) DO UPDATE SET profile = COALESCE(excluded.profile, devices.profile), model = excluded.model,
           fw = excluded.fw, channels = excluded.channels, last_seen = excluded.last_seen,
           caps = CASE WHEN @capsKnown = 1 THEN excluded.caps ELSE devices.caps END,
           flashed_at = excluded.flashed_at, flashed_fw = excluded.flashed_fw, mac = COALESCE(excluded.mac, devices.mac)`,
      )
      .run({ ...rec, channels: JSON.stringify(rec.channels), caps, capsKnown: rec.caps === undefined ? 0 : 1 });
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
          'SELECT id, transport, profile, model, fw, channels, caps, first_seen AS firstSeen, last_seen AS lastSeen FROM devices ORDER BY id',
        )
        .all() as DeviceRecord[]
    );
  }

  /**
   * The next commit-order stamp of the duplicate window (device_seqs.ord, devices.hello_ord): one more than any
   * stored, so it only grows — across restarts too, and whatever the wall clock does (a gateway without a
   * real-time clock may boot with an earlier time). Taken as the writes run, i.e. in commit order.
   */
  private nextOrder(): number {
    if (this.lastOrder === null) {
      const seqs = this.db.prepare('SELECT max(ord) AS m FROM device_seqs').get() as { m: number | null };
      const hellos = this.db.prepare('SELECT max(hello_ord) AS m FROM devices').get() as { m: number | null };
      this.lastOrder = Math.max(seqs.m ?? 0, hellos.m ?? 0);
    }
    return ++this.lastOrder;
  }

  /** A data frame's seq, committed with the frame: the duplicate window across restarts (migrations 5, 6). */
  seenSeq(device: string, seq: number): void {
    (this.insSeq ??= this.db.prepare('INSERT OR REPLACE INTO device_seqs (ord, device, seq) VALUES (?, ?, ?)')).run(this.nextOrder(), device, seq);
  }

  /**
   * Keeps the newest `keep` seqs of a device (the in-memory window's size). A scan (the table is keyed by commit
   * order, so that commits append), run once per `keep` frames of a device.
   */
  trimSeqs(device: string, keep: number): void {
    this.db
      .prepare('DELETE FROM device_seqs WHERE device = ? AND ord < (SELECT ord FROM device_seqs WHERE device = ? ORDER BY ord DESC LIMIT 1 OFFSET ?)')
      .run(device, device, keep - 1);
  }

  /**
   * The seqs each device committed since its last hello, oldest first, read once at start (one pass in key
   * order). Rows from before a hello stay until trimmed but never count.
   */
  seqsSinceHello(): Map<string, number[]> {
    const hello = new Map(
      (this.db.prepare('SELECT id, hello_ord AS helloOrd FROM devices').all() as Array<{ id: string; helloOrd: number | null }>).map((d) => [d.id, d.helloOrd ?? -Infinity]),
    );
    const out = new Map<string, number[]>();
    const rows = this.db.prepare('SELECT ord, device, seq FROM device_seqs ORDER BY ord').iterate() as IterableIterator<{ ord: number; device: string; seq: number }>;
    for (const r of rows) {
      if (r.ord < (hello.get(r.device) ?? -Infinity)) continue;
      let seqs = out.get(r.device);
      if (!seqs) out.set(r.device, (seqs = []));
      seqs.push(r.seq);
    }
    return out;
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
