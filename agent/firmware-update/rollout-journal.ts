import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import { readJsonFile, writeFileDurably } from './durable-file';
import { DurableJsonFile } from './durable-json-file';
import type { DeviceUpdate, Rollout } from './rollout-plan';
import { StateFileLock } from './state-file-lock';

/** Where the rollout's state lives between steps; saved before every step starts. */
export interface RolloutJournal {
  load(): Rollout | null;
  save(rollout: Rollout): void;
  /**
   * Saves one device's entry into the journal as it is now (other devices' entries may have been changed by
   * another process, e.g. `firmware retry`, since `rollout` was loaded) and brings `rollout.devices` up to date.
   */
  saveDevice(rollout: Rollout, dev: DeviceUpdate): void;
  clear(): void;
}

/**
 * The journal with `dev` (an entry of `rollout.devices`) put in place of its entry (or added); `rollout` itself
 * when the package changed.
 */
function withDevice(current: Rollout | null, rollout: Rollout, dev: DeviceUpdate): Rollout {
  // A different package on disk means a new campaign started during this device's step. The device's entry is
  // what a restart needs to recover a half-written flash, so this rollout is kept whole, as before any merge.
  if (!current || current.pkg.checksum !== rollout.pkg.checksum) return rollout;
  const devices = current.devices.some((d) => d.id === dev.id)
    ? current.devices.map((d) => (d.id === dev.id ? dev : d))
    : [...current.devices, dev];
  return { pkg: current.pkg, devices };
}

/**
 * `<dataDir>/firmware/rollout.json`, replaced atomically and fsynced; kept in memory between changes (the agent's
 * status shows it on every call, see DurableJsonFile for why a change by another process is still seen).
 */
export class FileRolloutJournal implements RolloutJournal {
  private readonly file: DurableJsonFile<Rollout>;
  /** shared with every read-modify-write of the firmware state in `dir` (FirmwareUpdates) */
  readonly lock: StateFileLock;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = new DurableJsonFile(path.join(dir, 'rollout.json'));
    this.lock = new StateFileLock(path.join(dir, 'state.lock'));
  }

  /** Read-modify-write of the journal, with no other process's change in between. */
  update(change: (current: Rollout | null) => Rollout | null): Rollout | null {
    return this.lock.hold(() => {
      const next = change(this.load());
      if (next) this.save(next);
      return next;
    });
  }

  saveDevice(rollout: Rollout, dev: DeviceUpdate): void {
    const merged = this.update((current) => withDevice(current, rollout, dev));
    // the merged entries hold `dev` itself, so the executor's later changes to it still land in `rollout`
    if (merged) rollout.devices = merged.devices;
  }

  load(): Rollout | null {
    return this.file.read();
  }

  /** The rollout as now, for reading only (no copy): what status documents show. */
  peek(): Readonly<Rollout> | null {
    return this.file.peek();
  }

  save(rollout: Rollout): void {
    this.file.write(rollout, JSON.stringify(rollout, null, 1));
  }

  clear(): void {
    this.file.remove();
  }
}

/** The image a device ran before its update (or got from the last update): what a rollback flashes. */
export interface RollbackImage {
  version: string;
  image: Buffer;
}

export interface RollbackImages {
  get(deviceId: string): RollbackImage | null;
  put(deviceId: string, image: RollbackImage): void;
}

/**
 * `<dataDir>/firmware/rollback/<device>.bin` (+ `.json` with the version), written durably. An image that no
 * longer passes the image checks (bit rot, a torn write) is not returned: better no backup (no update) than a
 * broken one.
 */
export class FileRollbackImages implements RollbackImages {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private file(deviceId: string, ext: string): string {
    return path.join(this.dir, `${encodeURIComponent(deviceId)}.${ext}`);
  }

  get(deviceId: string): RollbackImage | null {
    const meta = readJsonFile<{ version: string }>(this.file(deviceId, 'json'));
    if (!meta || !fs.existsSync(this.file(deviceId, 'bin'))) return null;
    const image = fs.readFileSync(this.file(deviceId, 'bin'));
    const inspection = inspectEspImage(image);
    if (inspection.problems.length > 0 || inspection.appDescriptor?.version !== meta.version) return null;
    return { version: meta.version, image };
  }

  put(deviceId: string, r: RollbackImage): void {
    // Image first, then the version that vouches for it: a crash in between leaves a mismatch that get() refuses.
    writeFileDurably(this.file(deviceId, 'bin'), r.image);
    writeFileDurably(this.file(deviceId, 'json'), JSON.stringify({ version: r.version }));
  }
}
