import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { Agent } from '../../agent/controller';
import { readJsonFile } from '../../agent/firmware-update/durable-file';
import { DurableJsonFile } from '../../agent/firmware-update/durable-json-file';
import {
  FirmwareRequestError,
  FirmwareUpdates,
  type FirmwareStatus,
  type HouseholdChoice,
} from '../../agent/firmware-update/firmware-updates';
import type { DeviceUpdate, PackageState, Rollout } from '../../agent/firmware-update/rollout-plan';
import { silentLogger } from '../../agent/logger';
import { kitchenScaleImage, packageOf } from '../support/firmware-packages';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { testConfig } from '../support/test-config';

// status() keeps the firmware files in memory and checks them with one stat per call (DurableJsonFile). These
// tests are the "never stale" half of that: whatever writes a file, the next status() shows it.

const PKG = packageOf(kitchenScaleImage('2.5.0', 64 * 1024, 7), { title: 'kitchen-scale', version: '2.5.0' });
const DEVICES = ['scale-1', 'scale-2', 'scale-3'];

const device = (id: string, over: Partial<DeviceUpdate> = {}): DeviceUpdate => ({
  id,
  model: 'kitchen-scale',
  state: 'PENDING',
  step: null,
  fromVersion: null,
  fw: '2.4.0',
  progress: 0,
  attempts: 0,
  reason: null,
  rollbackReason: null,
  ...over,
});

/** The oracle: the status document as the files on disk say, read afresh (no cache involved). */
function statusOnDisk(dataDir: string): FirmwareStatus {
  const dir = path.join(dataDir, 'firmware');
  const c = readJsonFile<{ pkg: typeof PKG; state: PackageState; error: string | null }>(path.join(dir, 'campaign.json'));
  const r = readJsonFile<Rollout>(path.join(dir, 'rollout.json'));
  const h = readJsonFile<Record<string, HouseholdChoice>>(path.join(dir, 'household.json')) ?? {};
  return {
    package: c && { title: c.pkg.title, version: c.pkg.version, size: c.pkg.size },
    state: c?.state ?? null,
    bytes: null,
    error: c?.error ?? null,
    devices: (r?.devices ?? []).map((d) => ({
      ...d,
      doNotUpdate: h[d.id]?.doNotUpdate === true,
      deferredUntil: h[d.id]?.deferredUntil ?? null,
    })),
  };
}

/** One change, made the way one of the files' writers makes it. */
type Change = (fw: FirmwareUpdates) => void;

const deviceId = fc.constantFrom(...DEVICES);
const change: fc.Arbitrary<[string, Change]> = fc.oneof(
  // the panel, `firmware defer`
  fc
    .tuple(deviceId, fc.constantFrom('never', 'until', 'clear'), fc.integer({ min: 1, max: 9 }))
    .map(([d, how, h]): [string, Change] => [
      `defer ${d} ${how}`,
      (fw) =>
        void fw.defer(d, how === 'never' ? { never: true } : how === 'clear' ? { clear: true } : { until: h * 3600_000 }),
    ]),
  // the rollout executor's step and progress saves: same-sized files in quick succession
  fc
    .tuple(deviceId, fc.integer({ min: 10, max: 99 }), fc.constantFrom<DeviceUpdate['state']>('UPDATING', 'FAILED', 'UPDATED'))
    .map(([d, progress, state]): [string, Change] => [
      `journal ${d} ${state} ${progress}`,
      (fw) => {
        const r = fw.journal.load() ?? { pkg: PKG, devices: [] };
        r.devices = DEVICES.map((id) => r.devices.find((x) => x.id === id) ?? device(id));
        Object.assign(r.devices.find((x) => x.id === d)!, { state, progress, reason: state === 'FAILED' ? 'no hello' : null });
        fw.journal.save(r);
        fw.refreshCampaign(r);
      },
    ]),
  // `firmware retry`
  deviceId.map((d): [string, Change] => [
    `retry ${d}`,
    (fw) => {
      try {
        fw.retry(d);
      } catch (err) {
        if (!(err instanceof FirmwareRequestError)) throw err;
      }
    },
  ]),
  // the uplink (download states) and `firmware import`/a verified download (a new rollout)
  fc
    .constantFrom<PackageState>('DOWNLOADED', 'FAILED', 'VERIFIED')
    .map((s): [string, Change] => [`campaign ${s}`, (fw) => fw.setCampaign(PKG, s, s === 'FAILED' ? 'cancelled' : null)]),
  fc.constant<[string, Change]>(['start rollout', (fw) => fw.startRollout(PKG)]),
  // the rollout runner's plan (the household's choices applied, devices found)
  fc.constant<[string, Change]>([
    'plan',
    (fw) =>
      void fw.plan(
        DEVICES.map((id) => ({ id, model: 'kitchen-scale', fw: '2.4.0', connected: true, idle: true, doNotUpdate: false, deferredUntil: null })),
        Date.now(),
      ),
  ]),
  fc.constant<[string, Change]>(['journal cleared', (fw) => fw.journal.clear()]),
);

describe('the firmware section of status is never stale, whoever wrote the files', () => {
  it('the agent and a CLI process (each its own FirmwareUpdates): after every change by either, both show what is on disk', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), change), { minLength: 1, maxLength: 25 }), (steps) => {
        const t = tempDir('edge-fw-fresh-');
        try {
          const agent = new FirmwareUpdates(t.dir);
          const cli = new FirmwareUpdates(t.dir);
          for (const [byAgent, [, apply]] of steps) {
            apply(byAgent ? agent : cli);
            const want = statusOnDisk(t.dir);
            expect(agent.status()).toEqual(want);
            expect(cli.status()).toEqual(want);
          }
        } finally {
          t.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a file replaced many times over with same-sized contents is seen at every version', () => {
    const t = tempDir('edge-fw-fresh-');
    try {
      const reader = new DurableJsonFile<{ n: number }>(path.join(t.dir, 'x.json'));
      const writer = new DurableJsonFile<{ n: number }>(path.join(t.dir, 'x.json'));
      for (let i = 0; i < 100; i++) {
        writer.write({ n: i % 10 });
        expect(reader.peek()).toEqual({ n: i % 10 });
        // two more replacements before the next look: the file system may hand the inode number seen first to
        // the newest file; the one held open cannot be
        writer.write({ n: (i + 1) % 10 });
        writer.write({ n: (i + 2) % 10 });
        expect(reader.peek()).toEqual({ n: (i + 2) % 10 });
      }
      fs.rmSync(reader.file);
      expect(reader.peek()).toBeNull();
    } finally {
      t.cleanup();
    }
  });

  it('the running agent’s status shows what `edge-agent firmware import|defer|retry` (built CLI) just wrote', async () => {
    const t = tempDir('edge-fw-fresh-');
    const dataDir = path.join(t.dir, 'data');
    const cfg = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(cfg, `gateway: { id: gw-fresh, dataDir: ${dataDir} }\n`);
    fs.writeFileSync(path.join(t.dir, 'new.bin'), kitchenScaleImage('2.5.0', 64 * 1024, 7));
    const agent = new Agent(testConfig(dataDir, {}), { logger: silentLogger, drivers: [], api: false });
    const cli = async (...args: string[]): Promise<void> => {
      const r = await runCli(['firmware', ...args, '--config', cfg]);
      expect([r.code, r.stderr]).toEqual([0, '']);
    };
    const firmware = (): FirmwareStatus | undefined => agent.status().firmware;
    try {
      await agent.start();
      expect(firmware()).toMatchObject({ package: null, state: null, devices: [] });

      await cli('import', '--package', path.join(t.dir, 'new.bin'));
      expect(firmware()).toMatchObject({ package: { title: 'kitchen-scale', version: '2.5.0' }, state: 'VERIFIED' });

      // a device failed by `firmware update` (its own process, the executor's journal save)
      const updater = new FirmwareUpdates(dataDir);
      const r = updater.journal.load()!;
      updater.journal.save({ ...r, devices: [device('scale-1', { state: 'FAILED', attempts: 3, reason: 'no hello' })] });
      expect(firmware()?.devices).toMatchObject([{ id: 'scale-1', state: 'FAILED', attempts: 3 }]);

      await cli('defer', '--device', 'scale-1', '--never');
      expect(firmware()?.devices).toMatchObject([{ id: 'scale-1', doNotUpdate: true }]);
      await cli('defer', '--device', 'scale-1', '--clear');
      expect(firmware()?.devices).toMatchObject([{ id: 'scale-1', doNotUpdate: false, deferredUntil: null }]);

      await cli('retry', '--device', 'scale-1');
      expect(firmware()?.devices).toMatchObject([{ id: 'scale-1', state: 'PENDING', attempts: 0 }]);
    } finally {
      await agent.stop();
      t.cleanup();
    }
  }, 60_000);
});
