import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import { readJsonFile, writeFileDurably } from './durable-file';
import { DurableJsonFile } from './durable-json-file';
import type { Rollout } from './rollout-plan';

/** Where the rollout's state lives between steps; saved before every step starts. */
export interface RolloutJournal {
  load(): Rollout | null;
  save(rollout: Rollout): void;
  clear(): void;
}

/**
 * `<dataDir>/firmware/rollout.json`, replaced atomically and fsynced; kept in memory between changes (the agent's
 * status shows it on every call, see DurableJsonFile for why a change by another process is still seen).
 */
export class FileRolloutJournal implements RolloutJournal {
  private readonly file: DurableJsonFile<Rollout>;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = new DurableJsonFile(path.join(dir, 'rollout.json'));
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
