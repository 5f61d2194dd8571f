import * as path from 'node:path';
import fc from 'fast-check';
import { inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import type { FirmwarePackage } from '../../agent/firmware-update/firmware-package';
import {
  RolloutExecutor,
  type DeviceAccess,
  type DeviceFlashLink,
  type FlashAppOptions,
} from '../../agent/firmware-update/rollout-executor';
import {
  FileRollbackImages,
  FileRolloutJournal,
  type RollbackImage,
  type RollbackImages,
  type RolloutJournal,
} from '../../agent/firmware-update/rollout-journal';
import {
  inWindow,
  packageState,
  planRollout,
  type DeviceFacts,
  type DeviceUpdate,
  type Rollout,
  type RolloutPolicy,
} from '../../agent/firmware-update/rollout-plan';
import { kitchenScaleImage, packageOf } from '../support/firmware-packages';
import { tempDir } from '../support/temp-dir';

const OLD = kitchenScaleImage('2.4.0', 24 * 1024, 11);
const NEW = kitchenScaleImage('2.5.0', 28 * 1024, 12);
const pkg: FirmwarePackage = packageOf(NEW);
const policy: RolloutPolicy = { window: null, maxAttempts: 3 };
const facts = (over: Partial<DeviceFacts> & { id: string }): DeviceFacts => ({
  model: 'kitchen-scale',
  fw: '2.4.0',
  connected: true,
  idle: true,
  doNotUpdate: false,
  deferredUntil: null,
  ...over,
});
const versionOf = (app: Uint8Array): string | null => {
  const i = inspectEspImage(app);
  return i.problems.length === 0 ? (i.appDescriptor?.version ?? null) : null;
};

describe('planRollout (pure)', () => {
  const empty: Rollout = { pkg, devices: [] };
  const now = new Date(2026, 11, 6, 3, 0).getTime();

  it('targets devices by model and device list, one at a time, and says why the others wait', () => {
    const { rollout, action } = planRollout(
      empty,
      [
        facts({ id: 'scale-3', idle: false }),
        facts({ id: 'scale-1' }),
        facts({ id: 'scale-2' }),
        facts({ id: 'door-1', model: 'fridge-door', fw: '1.9.2' }),
        facts({ id: 'scale-4', doNotUpdate: true }),
        facts({ id: 'scale-5', fw: '2.5.0' }),
        facts({ id: 'scale-6', deferredUntil: now + 3600_000 }),
        facts({ id: 'scale-7', connected: false }),
      ],
      policy,
      now,
    );
    expect(action).toEqual({ kind: 'update', device: 'scale-1' });
    const by = Object.fromEntries(rollout.devices.map((d) => [d.id, [d.state, d.reason]]));
    expect(by).toEqual({
      'scale-1': ['PENDING', null],
      'scale-2': ['PENDING', 'waiting for its turn (one device at a time)'],
      'scale-3': ['PENDING', 'busy (unacked frames or a command in progress)'],
      'scale-4': ['SKIPPED', 'household chose do not update'],
      'scale-5': ['UPDATED', null],
      'scale-6': ['PENDING', `deferred by the household until ${new Date(now + 3600_000).toISOString()}`],
      'scale-7': ['PENDING', 'not connected'],
    });
    expect(packageState(rollout)).toBe('UPDATING');
    const narrowed = planRollout(
      { pkg: { ...pkg, devices: ['scale-2'] }, devices: [] },
      [facts({ id: 'scale-1' }), facts({ id: 'scale-2' })],
      policy,
      now,
    );
    expect(narrowed.rollout.devices.map((d) => d.id)).toEqual(['scale-2']);
  });

  it('waits outside the maintenance window, including one that wraps midnight', () => {
    expect(inWindow('02:00-05:00', new Date(2026, 11, 6, 4, 59))).toBe(true);
    expect(inWindow('02:00-05:00', new Date(2026, 11, 6, 5, 0))).toBe(false);
    expect(inWindow('22:00-04:00', new Date(2026, 11, 6, 23, 30))).toBe(true);
    expect(inWindow('22:00-04:00', new Date(2026, 11, 6, 12, 0))).toBe(false);
    expect(() => inWindow('2-5', new Date())).toThrow(/not a time/);
    const { action, rollout } = planRollout(
      empty,
      [facts({ id: 'scale-1' })],
      { ...policy, window: '01:00-02:00' },
      now,
    );
    expect(action).toEqual({ kind: 'wait' });
    expect(rollout.devices[0].reason).toBe('outside the maintenance window 01:00-02:00');
  });

  it('recovers an UPDATING device before anything else, and ends UPDATED or FAILED', () => {
    const r: Rollout = { pkg, devices: [] };
    const first = planRollout(r, [facts({ id: 'a' }), facts({ id: 'b' })], policy, now).rollout;
    first.devices[1].state = 'UPDATING';
    first.devices[1].step = 'flashing';
    expect(planRollout(first, [facts({ id: 'a' }), facts({ id: 'b' })], policy, now).action).toEqual({
      kind: 'recover',
      device: 'b',
    });
    first.devices[0].state = 'UPDATED';
    first.devices[1].state = 'FAILED';
    const end = planRollout(first, [facts({ id: 'a', fw: '2.5.0' }), facts({ id: 'b' })], policy, now);
    expect(end.action).toEqual({ kind: 'done' });
    expect(packageState(end.rollout)).toBe('FAILED');
  });
});

/** SIGKILL of the agent: the process stops at this point and never runs another line. */
class Killed extends Error {}

type Fault = 'ok' | 'kill' | 'fail';

/** A device whose app region is flash the test can look at; operations consume a fault schedule. */
class ModelDevice {
  app: Buffer = Buffer.from(OLD);
  ops = 0;
  constructor(
    private readonly schedule: readonly Fault[],
    readonly silent: ReadonlySet<string>,
  ) {}

  fault(): Fault {
    return this.schedule[this.ops++] ?? 'ok';
  }
}

/** One agent process: once killed, its journal and files stay as they were. */
class Proc {
  dead = false;
  guard(): void {
    if (this.dead) throw new Killed('dead');
  }
}

function linkFor(dev: ModelDevice, proc: Proc): DeviceAccess {
  let flashedSinceHello = false;
  const step = (): void => {
    proc.guard();
    const f = dev.fault();
    if (f === 'kill') {
      proc.dead = true;
      throw new Killed('SIGKILL');
    }
    if (f === 'fail') throw Object.assign(new Error('the device went away'), { written: false });
  };
  const link: DeviceFlashLink = {
    async flashApp(image: Buffer, opts: FlashAppOptions) {
      step();
      await opts.beforeWrite(async () => {
        step();
        return Buffer.from(dev.app.subarray(0, inspectEspImage(dev.app).imageLength ?? dev.app.length));
      });
      proc.guard();
      // Written in four blocks after an erase; a fault cuts it in the middle, leaving a torn app.
      dev.app = Buffer.alloc(Math.max(image.length, dev.app.length), 0xff);
      for (let b = 0; b < 4; b++) {
        const f = dev.fault();
        if (f !== 'ok') {
          if (f === 'kill') proc.dead = true;
          throw f === 'kill'
            ? new Killed('SIGKILL')
            : Object.assign(new Error('write failed'), { written: true });
        }
        const q = Math.ceil(image.length / 4);
        image.copy(dev.app, b * q, b * q, Math.min(image.length, (b + 1) * q));
      }
      flashedSinceHello = true;
    },
    async waitHello() {
      step();
      const v = versionOf(dev.app);
      const booted = flashedSinceHello && v !== null && !dev.silent.has(v);
      flashedSinceHello = false;
      return booted ? { id: 'scale-1', fw: v } : null;
    },
    async close() {},
  };
  return { open: async () => (step(), link) };
}

function guarded(
  proc: Proc,
  journal: RolloutJournal,
  rollbacks: RollbackImages,
): { journal: RolloutJournal; rollbacks: RollbackImages } {
  return {
    journal: {
      load: () => journal.load(),
      save: (r: Rollout) => (proc.guard(), journal.save(r)),
      saveDevice: (r: Rollout, d: DeviceUpdate) => (proc.guard(), journal.saveDevice(r, d)),
      clear: () => journal.clear(),
    },
    rollbacks: {
      get: (id: string) => rollbacks.get(id),
      put: (id: string, r: RollbackImage) => (proc.guard(), rollbacks.put(id, r)),
    },
  };
}

/** Runs agents (each killed or not by the schedule) until the rollout is done; returns the final rollout. */
async function runToEnd(
  dir: string,
  dev: ModelDevice,
  onKill: (journal: Rollout | null) => void,
): Promise<Rollout> {
  const journal = new FileRolloutJournal(dir);
  const rollbacks = new FileRollbackImages(path.join(dir, 'rollback'));
  for (let run = 0; run < 40; run++) {
    const proc = new Proc();
    const g = guarded(proc, journal, rollbacks);
    const exec = new RolloutExecutor({
      ...g,
      access: linkFor(dev, proc),
      image: NEW,
      helloTimeoutMs: 1000,
      maxAttempts: 3,
    });
    let rollout = journal.load() ?? { pkg, devices: [] };
    try {
      for (;;) {
        const fw = versionOf(dev.app);
        const p = planRollout(rollout, [facts({ id: 'scale-1', fw })], policy, Date.now());
        rollout = p.rollout;
        if (p.action.kind === 'done') return rollout;
        if (p.action.kind === 'wait') throw new Error(`rollout waits: ${JSON.stringify(rollout.devices)}`);
        const before = JSON.stringify(rollout);
        rollout =
          p.action.kind === 'update'
            ? await exec.update(rollout, p.action.device)
            : await exec.recover(rollout, p.action.device);
        // a recover that could not reach the device changes nothing: the next agent tries again
        if (p.action.kind === 'recover' && JSON.stringify(rollout) === before) break;
      }
    } catch (err) {
      if (!(err instanceof Killed)) throw err;
      onKill(journal.load());
    }
  }
  throw new Error('rollout did not finish in 40 agent runs');
}

describe('RolloutExecutor with a model device, fault-injected', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('edge-fw-rollout-')));
  afterEach(() => t.cleanup());

  it('updates a device: backup read back and kept, new image flashed, hello checked', async () => {
    const dev = new ModelDevice([], new Set());
    const r = await runToEnd(t.dir, dev, () => {});
    expect(r.devices[0]).toMatchObject({
      state: 'UPDATED',
      fw: '2.5.0',
      fromVersion: '2.4.0',
      progress: 100,
      reason: null,
    });
    expect(versionOf(dev.app)).toBe('2.5.0');
    // the new image is kept as the next update's backup
    expect(new FileRollbackImages(path.join(t.dir, 'rollback')).get('scale-1')?.version).toBe('2.5.0');
  });

  it('a device that never says hello with the new version is rolled back and FAILED with the reason', async () => {
    const dev = new ModelDevice([], new Set(['2.5.0']));
    const r = await runToEnd(t.dir, dev, () => {});
    expect(r.devices[0].state).toBe('FAILED');
    expect(r.devices[0].reason).toBe('no hello with 2.5.0 expected within 1 s; rolled back to 2.4.0');
    expect(versionOf(dev.app)).toBe('2.4.0');
  });

  it('property: no sequence of faults (SIGKILL, failed writes, unreachable device, silent new image) leaves a device with neither image', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Fault>('ok', 'ok', 'ok', 'kill', 'fail'), { maxLength: 30 }),
        fc.boolean(),
        async (schedule, silentNew) => {
          const run = tempDir('edge-fw-prop-');
          try {
            const dev = new ModelDevice(schedule, new Set(silentNew ? ['2.5.0'] : []));
            const rollbacks = new FileRollbackImages(path.join(run.dir, 'rollback'));
            const r = await runToEnd(run.dir, dev, (journal) => {
              // At every kill: the device holds a whole image, or the journal holds it mid-step with the old
              // image on disk to restore.
              const v = versionOf(dev.app);
              if (v === '2.4.0' || v === '2.5.0') return;
              const d = journal?.devices[0];
              expect(d?.state).toBe('UPDATING');
              expect(['flashing', 'hello', 'rollback']).toContain(d?.step);
              expect(rollbacks.get('scale-1')?.version).toBe('2.4.0');
            });
            const v = versionOf(dev.app);
            expect(['2.4.0', '2.5.0']).toContain(v);
            const d = r.devices[0];
            if (d.state === 'UPDATED') expect(v).toBe('2.5.0');
            else {
              expect(d.state).toBe('FAILED');
              expect(v).toBe('2.4.0');
            }
            if (silentNew) expect(d.state).toBe('FAILED');
          } finally {
            run.cleanup();
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);
});

describe('RolloutJournal beside another writer (firmware retry|defer from the CLI)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('edge-fw-journal-')));
  afterEach(() => t.cleanup());

  const entry = (id: string, state: DeviceUpdate['state']): DeviceUpdate => ({
    id,
    model: 'kitchen-scale',
    state,
    step: null,
    fromVersion: '2.4.0',
    fw: '2.4.0',
    progress: 0,
    attempts: state === 'FAILED' ? 3 : 0,
    reason: state === 'FAILED' ? 'no hello' : null,
    rollbackReason: null,
  });

  it("a device's update keeps another device's change made during its flash", async () => {
    const journal = new FileRolloutJournal(t.dir);
    journal.save({ pkg, devices: [entry('scale-1', 'PENDING'), entry('scale-2', 'FAILED')] });
    // a second writer on the same files, as `edge-agent firmware retry scale-2` run while scale-1 is flashed
    const cli = new FileRolloutJournal(t.dir);
    const link: DeviceFlashLink = {
      async flashApp(_image, opts) {
        await opts.beforeWrite(async () => OLD);
        cli.update((r) => {
          const d = r?.devices.find((x) => x.id === 'scale-2');
          if (d) Object.assign(d, { state: 'PENDING', attempts: 0, reason: null });
          return r;
        });
      },
      waitHello: async () => ({ id: 'scale-1', fw: '2.5.0' }),
      async close() {},
    };
    const exec = new RolloutExecutor({
      journal,
      rollbacks: new FileRollbackImages(path.join(t.dir, 'rollback')),
      access: { open: async () => link },
      image: NEW,
      helloTimeoutMs: 1000,
      maxAttempts: 3,
    });
    const after = await exec.update(journal.load() ?? { pkg, devices: [] }, 'scale-1');
    const onDisk = journal.load();
    expect(onDisk?.devices.map((d) => [d.id, d.state])).toEqual([
      ['scale-1', 'UPDATED'],
      ['scale-2', 'PENDING'],
    ]);
    // and what the executor returns (reported upstream) is what is on disk
    expect(after.devices).toEqual(onDisk?.devices);
  });
});
