import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { loadConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE, dispense, reading, settle } from '../support/device-link';
import { freePort } from '../support/free-port';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

/** A real small filesystem for the data directory: root can mount a tmpfs here; elsewhere the suite is skipped. */
function mountTmpfs(dir: string, size: string): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

const t = tempDir('edge-fulldisk-');
const mnt = path.join(t.dir, 'mnt');
fs.mkdirSync(mnt);
const mounted = mountTmpfs(mnt, '24m');

afterAll(() => {
  if (mounted) spawnSync('umount', ['-l', mnt]);
  t.cleanup();
});

/** Frames of 40 readings each (the batched `r` form): the disk fills 40× faster than with single readings. */
const PER_FRAME = 40;
const batch = (seq: number): DeviceFrame => ({
  type: 'reading',
  seq: seq & 0xffff,
  body: { readings: Array.from({ length: PER_FRAME }, (_, i) => ({ ch: 1, v: seq + i / 100, t: seq })) },
});

const count = (agent: Agent, sql: string): number => (agent.database.prepare(sql).get() as { n: number }).n;

(mounted ? describe : describe.skip)('the data directory on a full disk (24 MiB tmpfs, SQLITE_FULL)', () => {
  it('stays up, refuses (does not ack) what it cannot store, drops by policy, says so in status and doctor, and recovers when space returns', async () => {
    const dataDir = path.join(mnt, 'data');
    const cfgFile = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfgFile,
      [
        `gateway: { id: gw-full, dataDir: ${dataDir} }`,
        `api: { listen: "127.0.0.1:${await freePort()}" }`,
        'devices:',
        '  - { id: scale-a, transport: sim, model: kitchen-scale, profile: home-a }',
        'campaigns:',
        '  - { id: coffee, qualify: { event: dispense }, value: 50, threshold: 1000000, channels: [push] }',
        'engagement: { signalIntervalS: 0 }',
        'storage: { maxBytes: 1073741824 }', // far above the disk: the disk fills first
        'ingest: { maxFramesPerSecondPerDevice: 1000000 }',
        'log: { level: error, file: false }',
        'consent:',
        '  grants: [{ device: scale-a, category: usage }, { profile: home-a, campaign: coffee }]',
        '',
      ].join('\n'),
    );
    const { config } = loadConfig(cfgFile, {});
    const agent = new Agent(config, { logger: silentLogger, drivers: [] });
    try {
      await agent.start();
      const a = new DeviceLink(agent, 'scale-a');
      a.send(HELLO_SCALE('scale-a'));
      // Fill the disk, 200 frames (8,000 readings) at a time, until a write fails with SQLITE_FULL.
      let seq = 1;
      while (!agent.status().storage.diskFull) {
        if (seq > 30_000) throw new Error(`the disk never filled: ${JSON.stringify(agent.status().storage)}`);
        const before = a.acks().length;
        for (let i = 0; i < 200; i++, seq++) a.send(batch(seq));
        for (let w = 0; w < 20 && a.acks().length - before < 200; w++) await settle(20); // acks follow the WAL fsync
      }
      // …and keep the device busy for 1,000 frames more while the disk is full.
      for (let i = 0; i < 1000; i++, seq++) a.send(batch(seq));
      const filledAt = seq - 1;
      expect(new Set(a.acks()).size).toBeLessThan(filledAt); // frames were refused, not acked

      // The drop policy ran against the disk at once: oldest raw readings went, counted, and room was made.
      await waitUntil('the disk-full drop', () => (agent.status().outbox.droppedByReason.raw_readings ?? 0) > 0, 5000);
      const st = agent.status();
      expect(st.storage.diskFull).toBe(true);
      expect(st.storage.limitBytes).toBeLessThan(st.storage.maxBytes);
      const cliStatus = await runCli(['status', '--json', '--config', cfgFile]);
      expect(cliStatus.code).toBe(0);
      expect(JSON.parse(cliStatus.stdout)).toMatchObject({ storage: { diskFull: true } });
      const doctor = await runCli(['doctor', '--config', cfgFile]);
      expect(doctor.stdout).toMatch(/FAIL\s+data directory .*(disk is full|nearly full)/);

      // The device retransmits what was refused: all of it is accepted into the room the policy made.
      for (let round = 0; round < 100; round++) {
        const acked = new Set(a.acks());
        const missing: number[] = [];
        for (let i = 1; i <= filledAt; i++) if (!acked.has(i & 0xffff)) missing.push(i);
        if (missing.length === 0) break;
        for (const i of missing.slice(0, 500)) a.send(batch(i));
        await settle(100);
      }
      expect(new Set(a.acks()).size).toBe(filledAt);
      // engagement events still go in
      const before = a.acks().length;
      a.send(dispense(filledAt + 1));
      await waitUntil('the event acked', () => a.acks().length > before, 5000);

      // Nothing acked vanished unaccounted: every acked reading is stored or counted as dropped by policy.
      await settle(1200);
      const stored = count(agent, 'SELECT count(*) AS n FROM readings');
      const dropped = agent.status().outbox.droppedByReason.raw_readings ?? 0;
      expect(stored + dropped).toBe(filledAt * PER_FRAME);
      expect(count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'consent'")).toBe(2); // receipts never dropped
      expect(agent.ledger.verify().ok).toBe(true);
      expect(agent.database.pragma('integrity_check', { simple: true })).toBe('ok');

      // Space returns (the filesystem grows): the disk limit is lifted and the database may grow again.
      expect(spawnSync('mount', ['-o', 'remount,size=64m', mnt]).status).toBe(0);
      await waitUntil('the disk limit lifted', () => agent.status().storage.diskFull === false, 5000);
      const usedBefore = agent.status().storage.usedBytes;
      for (let i = filledAt + 2; i < filledAt + 20_000; i++) a.send(reading(i, 1, i));
      await waitUntil('20,000 more frames acked', () => new Set(a.acks()).size >= filledAt + 20_000 - 1, 20_000);
      expect(agent.status().storage.usedBytes).toBeGreaterThan(usedBefore);
      process.stdout.write(`full disk: ${filledAt} frames sent until the disk filled, ${dropped} raw readings dropped by policy, ${stored} kept\n`);
    } finally {
      await agent.stop();
    }
  }, 120_000);
});
