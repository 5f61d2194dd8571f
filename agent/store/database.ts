import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { migrate } from './migrations';
import { makePrivate, privateDir, privateFileMode } from './private-files';

export type Db = Database.Database;

/** Page size of a database this agent creates (see openDatabase). */
export const PAGE_SIZE = 1024;
/** WAL size at which SQLite checkpoints (see openDatabase). */
export const WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** SQLite page cache per connection, in KiB (see openDatabase). */
export const PAGE_CACHE_KIB = 512;

export interface OpenOptions {
  /** Read-only opens skip migrations (used by `doctor`/`status` fallbacks). */
  readonly?: boolean;
}

/**
 * Opens (creating if needed) the agent's single SQLite database in WAL mode with synchronous=FULL,
 * so a committed transaction survives power loss: "acked" must mean durable (DESIGN §7).
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const onDisk = file !== ':memory:' && opts.readonly !== true;
  const files = [file, `${file}-wal`, `${file}-shm`];
  let dirMode = 0o700;
  // Nothing of a predecessor to make durable when this open creates the database (see syncAsFound).
  const created = onDisk && !fs.existsSync(file) && !fs.existsSync(`${file}-wal`);
  if (onDisk) {
    dirMode = privateDir(path.dirname(path.resolve(file)));
    // SQLite gives the -wal and -shm files the database file's mode: create it private before SQLite does
    fs.closeSync(fs.openSync(file, 'a', privateFileMode(dirMode)));
    makePrivate(files, dirMode);
  }
  const db = new Database(file, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
  db.pragma('busy_timeout = 5000');
  // 512 KiB of page cache instead of SQLite's default 2,000 KiB: with 1 KiB pages the default grew to ~2,000 pages
  // of malloc, most of the agent's native heap at home load (RSS target 60 MiB, issue #24). The hot tables are
  // small and recently committed pages come back from the WAL through the OS page cache (docs/performance.md).
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  if (!opts.readonly) {
    // 1 KiB pages for a new database (an existing one keeps its size): a commit writes every page it touches
    // whole, to the WAL and again at the checkpoint, and a frame's rows touch a handful of pages — with 4 KiB
    // pages that was most of the ~18 KB an accepted frame cost the SD card (issue #24, docs/performance.md).
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    // The WAL is checkpointed once it holds 4 MiB, as with SQLite's default of 1,000 4-KiB pages: a page changed
    // by many commits in between is copied back once, so rarer checkpoints write less (storage-budget.ts counts
    // on this bound).
    db.pragma(`wal_autocheckpoint = ${Math.round(WAL_CHECKPOINT_BYTES / (db.pragma('page_size', { simple: true }) as number))}`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    // A database this open created holds only what it committed itself, with synchronous=FULL: 3 fsyncs fewer
    // at a gateway's first start (15+ ms on an SD card, issue #24).
    if (file !== ':memory:' && !created) syncAsFound(path.resolve(file));
    if (onDisk) makePrivate(files, dirMode);
  }
  return db;
}

/**
 * Makes what a writable open finds durable before anything reads it as such. A predecessor that crashed (not a
 * power cut: its page cache lives on) may have committed rows whose WAL fsync never ran — group commit commits
 * with synchronous=NORMAL and fsyncs off the loop. This process reads those rows back like any other: the seqs in
 * `device_seqs` would ack a device's retransmissions as duplicates, the uplink would publish their signals, and
 * a power cut a moment later would take them back. One fsync of each file (and of the directory, for a WAL file
 * the predecessor created) closes that window at start, before the first ack (issue #24).
 */
function syncAsFound(file: string): void {
  for (const f of [`${file}-wal`, file, path.dirname(file)]) {
    let fd: number;
    try {
      fd = fs.openSync(f, 'r');
    } catch {
      continue; // no WAL file (yet): nothing of it to make durable
    }
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function databasePath(dataDir: string): string {
  return path.join(dataDir, 'edge-agent.db');
}

/**
 * After root wrote to the database (an installed gateway's `devices pair|unpair` run with sudo), gives every
 * database file back to the data directory's owner: a root-owned `-wal` or `-shm` would stop the service user
 * from opening its own database.
 */
export function handDatabaseBack(dataDir: string): void {
  if (process.getuid?.() !== 0 || !fs.existsSync(dataDir)) return;
  const owner = fs.statSync(dataDir);
  for (const f of fs.readdirSync(dataDir)) {
    if (!f.startsWith('edge-agent.db')) continue;
    const file = path.join(dataDir, f);
    const st = fs.statSync(file);
    if (st.uid !== owner.uid || st.gid !== owner.gid) fs.chownSync(file, owner.uid, owner.gid);
  }
}
