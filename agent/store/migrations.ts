import type Database from 'better-sqlite3';

/**
 * Numbered, forward-only schema migrations. A migration is never edited once released: add a new one.
 * Those pending run in one transaction together with the bumps of `user_version`: all are applied or none.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      -- Device registry: what a device said in its last hello plus link bookkeeping.
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        transport TEXT NOT NULL,
        profile TEXT,
        model TEXT,
        fw TEXT,
        channels TEXT NOT NULL DEFAULT '[]',
        first_seen INTEGER,
        last_seen INTEGER
      );

      -- Raw data that passed the device-layer consent check. Kept only as long as the engagement window needs.
      CREATE TABLE readings (
        id INTEGER PRIMARY KEY,
        device TEXT NOT NULL,
        ch INTEGER NOT NULL,
        category TEXT NOT NULL,
        v REAL NOT NULL,
        device_t INTEGER,
        t INTEGER NOT NULL
      );
      CREATE INDEX readings_t ON readings (t);
      CREATE INDEX readings_device ON readings (device, category);

      CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        device TEXT NOT NULL,
        name TEXT NOT NULL,
        category TEXT NOT NULL,
        ch INTEGER,
        v REAL,
        device_t INTEGER,
        t INTEGER NOT NULL
      );
      CREATE INDEX events_t ON events (t);
      CREATE INDEX events_device ON events (device, category);

      -- Engagement state (DESIGN §4): qualifying event times per (profile, campaign) and the trigger state.
      CREATE TABLE engagement_events (
        profile TEXT NOT NULL,
        campaign TEXT NOT NULL,
        t INTEGER NOT NULL
      );
      CREATE INDEX engagement_events_key ON engagement_events (profile, campaign, t);
      CREATE TABLE engagement_state (
        profile TEXT NOT NULL,
        campaign TEXT NOT NULL,
        armed INTEGER NOT NULL,
        last_trigger_at INTEGER,
        v REAL,
        PRIMARY KEY (profile, campaign)
      );

      -- Store-and-forward outbox (DESIGN §6): a row leaves only after PUBACK; id order is publish order.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        signal_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        profile TEXT,
        campaign TEXT,
        device TEXT,
        category TEXT,
        payload TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX outbox_scope ON outbox (profile, campaign);

      -- Append-only, SHA-256 hash-chained consent ledger (DESIGN §5).
      CREATE TABLE consent_ledger (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        target TEXT NOT NULL,
        granted INTEGER NOT NULL,
        source TEXT NOT NULL,
        policy_version INTEGER NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );

      -- Monotonic counters that must survive restarts (ingest totals, drops by reason).
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'event sources for precise erasure; purge counts in the consent ledger',
    sql: `
      -- Which device/category each qualifying event came from, so a device-level withdrawal erases exactly
      -- that device's contribution to engagement state.
      ALTER TABLE engagement_events ADD COLUMN device TEXT NOT NULL DEFAULT '';
      ALTER TABLE engagement_events ADD COLUMN category TEXT NOT NULL DEFAULT '';
      CREATE INDEX engagement_events_source ON engagement_events (device, category);
      -- How much a withdrawal erased, recorded in (and covered by the hash of) its ledger entry.
      ALTER TABLE consent_ledger ADD COLUMN purged_outbox INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE consent_ledger ADD COLUMN purged_engagement INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE consent_ledger ADD COLUMN purged_raw INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    name: 'flash records in the device registry',
    sql: `
      -- What "edge-agent flash" last put on the device and when (the hello after the flash names the device),
      -- and the chip's factory MAC, which survives any firmware.
      ALTER TABLE devices ADD COLUMN flashed_at INTEGER;
      ALTER TABLE devices ADD COLUMN flashed_fw TEXT;
      ALTER TABLE devices ADD COLUMN mac TEXT;
    `,
  },
  {
    version: 4,
    name: 'campaign outcomes: triggers with delivery state, purchases, presence, index samples',
    sql: `
      -- Every fired trigger (id = its signal id) and how channel "device" delivered it (docs/outcomes.md).
      CREATE TABLE outcome_triggers (
        id TEXT PRIMARY KEY,
        profile TEXT NOT NULL,
        campaign TEXT NOT NULL,
        device TEXT,
        at INTEGER NOT NULL,
        channels TEXT NOT NULL,
        delivery TEXT NOT NULL,
        delivery_error TEXT,
        delivered_at INTEGER
      );
      CREATE INDEX outcome_triggers_key ON outcome_triggers (profile, campaign, at);
      -- Purchases (conversion events and upstream-reported ones) and presence starts/ends, per campaign the
      -- household consented to when they happened; erased with that consent.
      CREATE TABLE outcome_events (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        profile TEXT NOT NULL,
        campaign TEXT NOT NULL,
        device TEXT,
        category TEXT,
        at INTEGER NOT NULL,
        source TEXT NOT NULL,
        trigger_id TEXT
      );
      CREATE INDEX outcome_events_key ON outcome_events (profile, campaign, at);
      CREATE INDEX outcome_events_source ON outcome_events (device, category);
      CREATE UNIQUE INDEX outcome_events_upstream ON outcome_events (trigger_id, at) WHERE source = 'upstream';
      -- The index over time per (profile, campaign), bounded per key, for support charts.
      CREATE TABLE index_samples (
        profile TEXT NOT NULL,
        campaign TEXT NOT NULL,
        at INTEGER NOT NULL,
        idx REAL NOT NULL,
        trigger INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX index_samples_key ON index_samples (profile, campaign, at);
    `,
  },
  {
    version: 5,
    name: 'the duplicate window survives restarts',
    sql: `
      -- Seqs of data frames committed since each device's last hello (bounded per device), written in the same
      -- transaction as the frame: after a crash, a retransmission of a frame committed just before it (whose ack
      -- was lost) is recognised as a duplicate instead of being stored and counted twice.
      CREATE TABLE device_seqs (
        device TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (device, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'what every frame writes is appended in commit order',
    sql: `
      -- Every page a commit touches is written whole to the WAL, and again by the checkpoint (issue #24, SD-card
      -- writes). A B-tree keyed by device first takes a frame of each device into a different leaf page: with
      -- 20 devices, one commit wrote ~20 pages per such index. So what every frame writes is keyed in commit
      -- order, and appends land in the same last page.
      -- The duplicate window, keyed by commit order first (ord: a number that only grows, across restarts and
      -- whatever the wall clock does). A hello no longer deletes the device's rows (a scan without a device-first
      -- key): it stamps devices.hello_ord from the same sequence, and only seqs committed after it are restored.
      CREATE TABLE device_seqs_by_order (
        ord INTEGER NOT NULL,
        device TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (ord, device, seq)
      ) WITHOUT ROWID;
      INSERT OR IGNORE INTO device_seqs_by_order (ord, device, seq) SELECT at, device, seq FROM device_seqs;
      DROP TABLE device_seqs;
      ALTER TABLE device_seqs_by_order RENAME TO device_seqs;
      ALTER TABLE devices ADD COLUMN hello_ord INTEGER;
      -- Device-first indexes on per-frame tables served only erasure (a consent withdrawal) and 'devices show':
      -- rare, and bounded by the storage budget (storage.maxBytes), they scan the table instead.
      DROP INDEX readings_device;
      DROP INDEX events_device;
      DROP INDEX engagement_events_source;
      DROP INDEX outcome_events_source;
    `,
  },
  {
    version: 7,
    name: 'what a device says it understands (hello cap)',
    sql: `
      -- JSON array of the capabilities of the device's last hello (e.g. ["update"]: it understands the
      -- pending-update command), NULL for none: an agent restarted while the device kept running still knows them.
      ALTER TABLE devices ADD COLUMN caps TEXT;
    `,
  },
];

export class MigrationError extends Error {}

/** Applies every migration newer than the database's `user_version`; refuses a database from a newer agent. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  if (current > latest) {
    throw new MigrationError(
      `database schema version ${current} is newer than this agent supports (${latest}) — upgrade edge-agent or restore a matching backup`,
    );
  }
  // Every pending migration in one transaction: all or none, like one each, but one commit (one WAL fsync) instead
  // of six on a fresh database — a third of the first start's time under a Pi-class CPU quota (bench group pi).
  const pending = migrations.filter((m) => m.version > current);
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  })();
  return pending.length;
}
