import Database from 'better-sqlite3';
import { freePort } from '../../support/free-port';
import { PtyPair } from '../../support/pty-pair';
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

/**
 * Serial devices on PTYs and a config for `edge-agent run` that grants them usage consent; `campaign` adds one
 * campaign counting their `dispense` events (its engagement writes then go into every event's transaction).
 */
export async function serialHousehold(
  dir: string,
  gatewayId: string,
  ids: readonly string[],
  ptys: PtyPair[],
  campaign: boolean,
): Promise<{ cfgFile: string; dbFile: string }> {
  const dataDir = path.join(dir, 'data');
  for (const id of ids) {
    const p = new PtyPair(dir, `tty-${id}`);
    await p.start();
    ptys.push(p);
  }
  const cfgFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    cfgFile,
    [
      `gateway: { id: ${gatewayId}, dataDir: ${dataDir} }`,
      `api: { listen: "127.0.0.1:${await freePort()}" }`,
      'devices:',
      ...ids.map((id, i) => `  - { id: ${id}, transport: serial, port: ${ptys[i].gateway}, profile: home-a }`),
      ...(campaign
        ? ['campaigns:', '  - { id: coffee, qualify: { event: dispense }, value: 50, threshold: 1000000, channels: [push] }', 'engagement: { signalIntervalS: 0 }']
        : []),
      'log: { level: info, file: false }',
      'consent:',
      '  grants:',
      ...ids.map((id) => `    - { device: ${id}, category: usage }`),
      ...(campaign ? ['    - { profile: home-a, campaign: coffee }'] : []),
      '',
    ].join('\n'),
  );
  return { cfgFile, dbFile: path.join(dataDir, 'edge-agent.db') };
}
