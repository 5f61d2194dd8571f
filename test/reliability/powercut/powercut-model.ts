import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** gcc builds the LD_PRELOAD shim; without it the power-cut suites are skipped. */
export const hasGcc = spawnSync('which', ['gcc']).status === 0;

/** Builds powercut.so (see powercut.c for the model) into `dir`; returns its path. */
export function buildShim(dir: string): string {
  const shim = path.join(dir, 'powercut.so');
  if (fs.existsSync(shim)) return shim;
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, path.join(__dirname, 'powercut.c'), '-ldl']);
  if (r.status !== 0) throw new Error(`gcc failed: ${r.stderr.toString()}`);
  return shim;
}

/**
 * The power cut itself (after the process is gone): replaces the live files with what survived, as a reboot after
 * a power failure would find them. Files the model never tracked (no .durable) did not survive either.
 */
export function restoreDurableImages(dbFile: string): void {
  for (const suffix of ['', '-wal', '-journal']) {
    const live = dbFile + suffix;
    const durable = `${live}.durable`;
    if (fs.existsSync(durable)) fs.renameSync(durable, live);
    else fs.rmSync(live, { force: true });
  }
  fs.rmSync(`${dbFile}-shm`, { force: true }); // shared memory: rebuilt from the WAL on open
}

export function integrity(dbFile: string): string {
  const db = new Database(dbFile);
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}
