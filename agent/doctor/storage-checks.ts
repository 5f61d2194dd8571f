import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConsentLedger } from '../consent/consent-ledger';
import { databasePath, openDatabase, type Db } from '../store/database';
import { databaseBytesInUse } from '../store/storage-budget';
import { result, type Check, type CheckResult, type DoctorContext } from './check';

/** Below this the agent still runs but the next burst can fill the disk; below the hard floor writes fail. */
const WARN_FREE_BYTES = 200 * 1024 * 1024;
const FAIL_FREE_BYTES = 20 * 1024 * 1024;

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

function withDatabase<T>(ctx: DoctorContext, check: Check, use: (db: Db, file: string) => T): T | CheckResult {
  if (!ctx.config) return result(check, 'skip', 'no valid config');
  const file = databasePath(ctx.config.gateway.dataDir);
  if (!fs.existsSync(file)) return result(check, 'skip', `no database yet at ${file} (the agent has not run with this config)`);
  let db: Db;
  try {
    db = openDatabase(file, { readonly: true });
  } catch (err) {
    return result(check, 'fail', `cannot open ${file}: ${(err as Error).message}`, 'check the file\'s owner and mode (the service user must read and write it)');
  }
  try {
    return use(db, file);
  } finally {
    db.close();
  }
}

export const DATA_DIR_CHECK: Check = {
  id: 'data-dir',
  title: 'data directory',
  run(ctx) {
    if (!ctx.config) return result(this, 'skip', 'no valid config');
    const dir = path.resolve(ctx.config.gateway.dataDir);
    // The directory may not exist before the first run: judge the nearest existing parent, where it will be made.
    let probe = dir;
    while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
    try {
      fs.accessSync(probe, fs.constants.W_OK);
    } catch {
      return result(this, 'fail', `${probe} is not writable by this user`, `give the service user the directory: \`sudo chown -R edge-agent: ${dir}\``);
    }
    // access() says yes for root even on a read-only mount; a real write says the truth.
    if (probe === dir) {
      const marker = path.join(dir, `.doctor-${process.pid}`);
      try {
        fs.writeFileSync(marker, 'x');
        fs.rmSync(marker);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC') return result(this, 'fail', `${dir}: the disk is full (no space to write even one byte)`, 'free space on that filesystem (old logs, images); the agent refuses new frames until there is room');
        return result(this, 'fail', `${dir}: cannot write (${code ?? (err as Error).message})`, 'check the mount (read-only after a filesystem error?) and permissions');
      }
    }
    const st = fs.statfsSync(probe);
    const free = st.bavail * st.bsize;
    const total = st.blocks * st.bsize;
    const detail = `${dir}: ${mib(free)} free of ${mib(total)}`;
    if (free < FAIL_FREE_BYTES) return result(this, 'fail', `${detail} — nearly full`, 'free space on that filesystem, or set storage.maxBytes below the free space so the drop policy applies first');
    if (free < WARN_FREE_BYTES) return result(this, 'warn', `${detail} — running low`, 'free space, or lower storage.maxBytes so the agent drops by policy before the disk fills');
    return result(this, 'pass', detail);
  },
};

export const DATABASE_CHECK: Check = {
  id: 'database',
  title: 'SQLite',
  run(ctx) {
    return withDatabase(ctx, this, (db, file) => {
      const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
      const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
      if (problems.length > 0) {
        return result(this, 'fail', `${file}: ${problems.length} integrity problem(s), first: ${problems[0]}`, `stop the agent, keep a copy of ${path.dirname(file)}, and restore it with \`sqlite3 ${file} .recover\``);
      }
      const mode = db.pragma('journal_mode', { simple: true }) as string;
      return result(this, 'pass', `${file}: integrity ok (${mode})`);
    });
  },
};

export const LEDGER_CHECK: Check = {
  id: 'ledger',
  title: 'consent ledger',
  run(ctx) {
    return withDatabase(ctx, this, (db) => {
      const v = new ConsentLedger(db).verify();
      return v.ok
        ? result(this, 'pass', `${v.entries} entries, hash chain intact`)
        : result(this, 'fail', `BROKEN at entry ${v.brokenAt}: ${v.reason}`, 'the consent history was altered outside the agent: keep a copy of the database for investigation and report it (`edge-agent consent export --json`)');
    });
  },
};

export const STORAGE_BUDGET_CHECK: Check = {
  id: 'storage',
  title: 'storage budget',
  run(ctx) {
    return withDatabase(ctx, this, (db) => {
      const max = ctx.config!.storage.maxBytes;
      const used = databaseBytesInUse(db);
      const dropped = db.prepare("SELECT coalesce(sum(value), 0) AS n FROM counters WHERE name LIKE 'dropped.%'").get() as { n: number };
      const pct = Math.round((used / max) * 100);
      const detail = `${mib(used)} of storage.maxBytes ${mib(max)} (${pct} %)${dropped.n > 0 ? `, ${dropped.n} rows dropped by policy so far` : ''}`;
      if (used > max) return result(this, 'fail', `${detail}: full — frames are refused until space returns`, 'restore the uplink so the outbox drains, or raise storage.maxBytes');
      if (pct >= 80 || dropped.n > 0) return result(this, 'warn', detail, 'the outbox is not draining: check the upstream line below, or raise storage.maxBytes');
      return result(this, 'pass', detail);
    });
  },
};
