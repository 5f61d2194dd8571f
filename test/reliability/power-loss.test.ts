import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seededRandom } from '../../drivers/sim/sim-driver';
import { PtyPair, hasSocat } from '../support/pty-pair';
import { REPO, startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';
import { RecordingDevice, ackedButMissing, storedFrames } from './crash-loop-harness';
import { buildShim as buildPowercutShim, hasGcc, integrity, restoreDurableImages, serialHousehold } from './powercut/powercut-model';

/*
 * Power loss, modelled two ways (docs/guarantees.md, "Power loss"):
 * 1. powercut.so (LD_PRELOAD) keeps "<file>.durable" = each SQLite file as of its last fsync. SIGKILL + those
 *    images is the strictest power cut: every write not yet fsynced is gone.
 * 2. A plain copy of the database and WAL while the agent writes: what a crash of the process (not the
 *    machine) leaves, torn across the two files because the copy is not atomic.
 */
const seed = Number(process.env.POWER_LOSS_SEED ?? Date.now() % 1_000_000);
const work = tempDir('edge-powercut-');
let shim = '';

afterAll(() => work.cleanup());

function buildShim(): void {
  shim = buildPowercutShim(work.dir);
}

(hasGcc ? describe : describe.skip)('the power-cut model itself (LD_PRELOAD shim, better-sqlite3 in a child process)', () => {
  beforeAll(buildShim);

  // The writers below report each commit with fs.writeSync on fd 1, never process.stdout.write: their loops never
  // yield to the event loop, and process.stdout (a non-blocking socket pair) queues every write once ~280 unread
  // lines fill the socket's send buffer (a busy test worker reads late). That queue drains only on the event
  // loop, so the lines stopped at 278 while the writer committed on, holding every write in memory (a timeout,
  // then 23 GB). fd 1 itself is blocking: a slow reader pauses the writer instead.

  /** Commits one row per transaction and prints its id once committed, until killed; returns how many the cut kept. */
  async function cutWhileCommitting(synchronous: string, fsyncWalAfterCommit = false): Promise<{ acked: number; kept: number }> {
    const dir = fs.mkdtempSync(path.join(work.dir, `${synchronous}-`));
    const dbFile = path.join(dir, 'model.db');
    const script = `
      const Database = require(${JSON.stringify(path.join(REPO, 'node_modules', 'better-sqlite3'))});
      const db = new Database(${JSON.stringify(dbFile)});
      db.pragma('journal_mode = WAL'); db.pragma('synchronous = ${synchronous}');
      db.pragma('wal_autocheckpoint = 0'); // a checkpoint syncs the WAL; without one, NORMAL never does (deterministic)
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)');
      const ins = db.prepare('INSERT INTO t (id, pad) VALUES (?, ?)');
      const fs = require('node:fs');
      for (let i = 1; ; i++) {
        ins.run(i, 'x'.repeat(200));
        if (${fsyncWalAfterCommit}) { const fd = fs.openSync(${JSON.stringify(dbFile + '-wal')}, 'r'); fs.fsyncSync(fd); fs.closeSync(fd); }
        fs.writeSync(1, i + '\\n');
      }`;
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, LD_PRELOAD: shim }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil(`${synchronous}: 300 commits`, () => out.split('\n').length > 300, 20_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const acked = Math.max(...out.split('\n').filter(Boolean).map(Number));
    restoreDurableImages(dbFile);
    expect(integrity(dbFile)).toBe('ok');
    const db = new Database(dbFile);
    try {
      const kept = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number } | undefined)?.n ?? 0;
      return { acked, kept };
    } catch {
      return { acked, kept: 0 }; // the table itself was never synced
    } finally {
      db.close();
    }
  }

  /** Runs `script` under the shim until it printed `lines` lines; returns them (the process is SIGKILLed). */
  async function runUntilKilled(script: string, lines: number, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env, LD_PRELOAD: shim }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let gone = false;
    const exited = new Promise((r) => child.once('close', r)).then(() => (gone = true));
    try {
      // one wait, ended by the lines or by the child's exit (a raced second wait would outlive the test and fail
      // a later one)
      await waitUntil(`${lines} lines`, () => gone || out.split('\n').length > lines, 20_000);
    } finally {
      // also when the wait gives up: a writer left running under the shim keeps every write in memory (it grew
      // to 23 GB and took the machine down with it)
      child.kill('SIGKILL');
      await exited;
    }
    return out.split('\n').filter(Boolean);
  }

  /**
   * A crash, then a cut: a writer commits rows with synchronous=NORMAL (as group commit does before its off-loop
   * fsync) and is SIGKILLed — a crash, its page cache lives on. A second process opens the database and reports
   * the newest row it can read, which a restarted agent would treat as durable (its duplicate window, its
   * uplink). Then the power goes. Returns what the second process saw and what the cut kept.
   */
  async function crashThenCut(opener: 'plain better-sqlite3' | 'openDatabase'): Promise<{ seen: number; kept: number }> {
    const dir = fs.mkdtempSync(path.join(work.dir, 'crash-then-cut-'));
    const dbFile = path.join(dir, 'edge-agent.db');
    const sqlite = JSON.stringify(path.join(REPO, 'node_modules', 'better-sqlite3'));
    const database = JSON.stringify(path.join(REPO, 'dist', 'agent', 'store', 'database.js'));
    // The agent's schema, committed FULL (as migrations are); then rows committed NORMAL and never fsynced.
    await runUntilKilled(
      `const db = require(${database}).openDatabase(${JSON.stringify(dbFile)});
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)');
      db.pragma('synchronous = NORMAL');
      const ins = db.prepare('INSERT INTO t (id, pad) VALUES (?, ?)');
      for (let i = 1; ; i++) { ins.run(i, 'x'.repeat(200)); require('node:fs').writeSync(1, i + '\\n'); }`,
      300,
    );
    const open =
      opener === 'openDatabase'
        ? `require(${database}).openDatabase(${JSON.stringify(dbFile)})`
        : `(() => { const d = new (require(${sqlite}))(${JSON.stringify(dbFile)}); d.pragma('journal_mode = WAL'); return d; })()`;
    const [seen] = await runUntilKilled(
      `const db = ${open};
      process.stdout.write(db.prepare('SELECT max(id) AS n FROM t').get().n + '\\n');
      setInterval(() => undefined, 1000);`,
      1,
    );
    restoreDurableImages(dbFile);
    expect(integrity(dbFile)).toBe('ok');
    const db = new Database(dbFile, { readonly: true });
    try {
      return { seen: Number(seen), kept: (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n };
    } finally {
      db.close();
    }
  }

  it('a crash then a cut: rows a crashed writer committed but never fsynced are read back after the restart, yet the cut loses them', async () => {
    const r = await crashThenCut('plain better-sqlite3');
    expect(r.seen).toBeGreaterThanOrEqual(300);
    expect(r.kept).toBeLessThan(r.seen);
  });

  it("a crash then a cut: the agent's openDatabase makes what it finds durable before it returns, so nothing it read is lost", async () => {
    const r = await crashThenCut('openDatabase');
    expect(r.seen).toBeGreaterThanOrEqual(300);
    expect(r.kept).toBeGreaterThanOrEqual(r.seen);
  });

  it('synchronous=FULL: every commit reported before the cut survives it', async () => {
    const r = await cutWhileCommitting('FULL');
    expect(r.kept).toBeGreaterThanOrEqual(r.acked);
  });

  it("NORMAL plus an fsync of the WAL through a second descriptor before the ack (the agent's group commit): every commit survives", async () => {
    const r = await cutWhileCommitting('NORMAL', true);
    expect(r.kept).toBeGreaterThanOrEqual(r.acked);
  });

  it('synchronous=NORMAL in WAL mode loses commits the cut interrupted: the model detects non-durable settings', async () => {
    const r = await cutWhileCommitting('NORMAL');
    expect(r.kept).toBeLessThan(r.acked);
  });

  it('synchronous=OFF loses them too', async () => {
    const r = await cutWhileCommitting('OFF');
    expect(r.kept).toBeLessThan(r.acked);
  });
});

(hasGcc && hasSocat ? describe : describe.skip)('edge-agent run through power cuts (CLI under the LD_PRELOAD model, serial devices on PTYs)', () => {
  const t = tempDir('edge-powerloss-');
  const ptys: PtyPair[] = [];
  const devices: RecordingDevice[] = [];
  beforeAll(buildShim);
  afterAll(async () => {
    for (const d of devices) await d.close();
    for (const p of ptys) await p.stop();
    t.cleanup();
  });

  it(`after each of 8 cuts the database passes integrity_check and holds every frame acked before the cut; so do copies taken mid-write (seed ${seed})`, async () => {
    process.stdout.write(`power loss seed ${seed} (reproduce: POWER_LOSS_SEED=${seed})\n`);
    const rng = seededRandom(seed);
    const ids = ['scale-1', 'scale-2', 'scale-3'];
    const { cfgFile, dbFile } = await serialHousehold(t.dir, 'gw-powerloss', ids, ptys, true);
    const env = { LD_PRELOAD: shim };
    const ackTimer = setInterval(() => devices.forEach((d) => d.noteAcks()), 5);
    const copies: Array<{ dir: string; before: number }> = [];
    let checkedRows = 0;
    try {
      for (let cut = 0; cut < 8; cut++) {
        const agent = startCli(['run', '--config', cfgFile], { env });
        await agent.waitFor(/ready/, 20_000);
        if (devices.length === 0) {
          for (let i = 0; i < ids.length; i++) {
            const d = new RecordingDevice(ptys[i].device, { id: ids[i], model: 'kitchen-scale', fw: '1.4.2', kind: 'kitchen-scale', ratePerMin: 3000 }, { seed: seed + i, tickMs: 20 });
            await d.open();
            devices.push(d);
          }
        }
        const runMs = 600 + rng() * 1400;
        // A plain copy at a random moment of the run: everything acked before the copy began must be in it.
        const copyAt = runMs * rng();
        await new Promise((r) => setTimeout(r, copyAt));
        const before = Date.now();
        const dir = fs.mkdtempSync(path.join(t.dir, 'copy-'));
        for (const suffix of ['', '-wal']) if (fs.existsSync(dbFile + suffix)) fs.copyFileSync(dbFile + suffix, path.join(dir, `edge-agent.db${suffix}`));
        copies.push({ dir, before });
        await new Promise((r) => setTimeout(r, runMs - copyAt));
        const cutAt = Date.now();
        agent.child.kill('SIGKILL');
        await agent.exit;
        devices.forEach((d) => d.noteAcks());

        restoreDurableImages(dbFile);
        expect({ cut, integrity: integrity(dbFile) }).toEqual({ cut, integrity: 'ok' });
        const { stored, rows } = storedFrames(dbFile);
        const missingNow = ackedButMissing(devices, stored, cutAt);
        process.stdout.write(`cut ${cut}: rows ${rows}, missing ${missingNow.length}: ${missingNow.slice(0, 3).join("; ")}\n`);
        expect({ cut, missing: missingNow.slice(0, 5) }).toEqual({ cut, missing: [] });
        checkedRows = rows;
      }
      for (const c of copies) {
        const f = path.join(c.dir, 'edge-agent.db');
        expect(integrity(f)).toBe('ok');
        expect(ackedButMissing(devices, storedFrames(f).stored, c.before).slice(0, 5)).toEqual([]);
      }
      const acked = devices.reduce((n, d) => n + [...d.sent.values()].filter((s) => s.ackedAt !== null).length, 0);
      process.stdout.write(`power loss: 8 cuts, ${acked} frames acked, ${checkedRows} rows after the last cut, ${copies.length} copies checked\n`);
      expect(acked).toBeGreaterThan(500); // the cuts really landed on a busy agent
    } finally {
      clearInterval(ackTimer);
    }
  }, 180_000);
});
