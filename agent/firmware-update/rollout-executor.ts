import { inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import type { RollbackImages, RolloutJournal } from './rollout-journal';
import type { DeviceUpdate, Rollout, UpdateStep } from './rollout-plan';

export interface FlashAppOptions {
  /**
   * Called once the device answers and the image passed the chip checks, before the first byte is written;
   * `readRunning` reads back the app that runs now (its own length). A throw refuses the flash, nothing written.
   */
  beforeWrite(readRunning: () => Promise<Buffer>): Promise<void>;
  onProgress?(percent: number): void;
}

/** A flash that failed; `written` says whether the device's app may have been changed. */
export interface FlashFailure extends Error {
  written: boolean;
}

/** One device's USB cable while the rollout holds it (the serial driver has let go of the port). */
export interface DeviceFlashLink {
  /** Flashes `image` as the app and restarts the device into it; rejects with a FlashFailure. */
  flashApp(image: Buffer, opts: FlashAppOptions): Promise<void>;
  /** The first hello after the restart, or null after `timeoutMs`. */
  waitHello(timeoutMs: number): Promise<{ id: string; fw: string } | null>;
  /** Gives the port back to the serial driver. */
  close(): Promise<void>;
}

export interface DeviceAccess {
  open(deviceId: string): Promise<DeviceFlashLink>;
}

export interface RolloutExecutorDeps {
  journal: RolloutJournal;
  rollbacks: RollbackImages;
  access: DeviceAccess;
  /** the verified package's image */
  image: Buffer;
  helloTimeoutMs: number;
  maxAttempts: number;
  onChange?: (rollout: Rollout) => void;
}

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const wasWritten = (err: unknown): boolean => (err as Partial<FlashFailure>)?.written !== false;

/** Backup refused: the running app could not be read back as a valid image of the version it reports. */
class BackupRefused extends Error {
  readonly written = false;
}

/**
 * Carries out one device's update (docs/firmware-updates.md §5): backup of the running app (kept from the last
 * update, else read back from flash and checked) durable before the first write, flash, hello with the new
 * version within the timeout, else the backup flashed back. Every step is journaled before it starts, so an agent
 * killed at any point finds the device in the journal with its backup on disk and `recover` undoes the step.
 */
export class RolloutExecutor {
  constructor(private readonly d: RolloutExecutorDeps) {}

  /** Updates `deviceId` (PENDING, chosen by planRollout); returns the rollout after the device's outcome. */
  async update(rollout: Rollout, deviceId: string): Promise<Rollout> {
    const dev = this.device(rollout, deviceId);
    const version = rollout.pkg.version;
    dev.state = 'UPDATING';
    dev.attempts++;
    dev.fromVersion = dev.fw;
    dev.progress = 0;
    dev.reason = null;
    this.step(rollout, dev, 'backup');
    let link: DeviceFlashLink;
    try {
      link = await this.d.access.open(deviceId);
    } catch (err) {
      return this.notWritten(rollout, dev, `cannot reach the device: ${reasonOf(err)}`);
    }
    try {
      try {
        await link.flashApp(this.d.image, {
          beforeWrite: async (readRunning) => {
            await this.ensureBackup(dev, readRunning);
            this.step(rollout, dev, 'flashing');
          },
          onProgress: (p) => {
            dev.progress = p;
            this.d.onChange?.(rollout);
          },
        });
      } catch (err) {
        // Writes start only after the backup step ended: before that, nothing was written whatever the error.
        if (dev.step === 'backup' || !wasWritten(err)) return this.notWritten(rollout, dev, reasonOf(err));
        return await this.rollBack(
          rollout,
          dev,
          link,
          `flashing ${version} failed: ${reasonOf(err)}`,
          'FAILED',
        );
      }
      this.step(rollout, dev, 'hello');
      const hello = await this.hello(link);
      if (hello && hello.id === dev.id && hello.fw === version) {
        this.end(rollout, dev, 'UPDATED', null, version);
        // Keep what runs now as the next update's backup: no read-back next time. Journaled UPDATED first: a
        // crash in between only costs a read-back later (a torn pair of files is refused by get()).
        this.d.rollbacks.put(dev.id, { version, image: this.d.image });
        return rollout;
      }
      const seen = hello ? `hello from ${hello.id} with ${hello.fw}` : 'no hello';
      return await this.rollBack(
        rollout,
        dev,
        link,
        `${seen} with ${version} expected within ${Math.round(this.d.helloTimeoutMs / 1000)} s`,
        'FAILED',
      );
    } finally {
      await link.close().catch(() => {});
    }
  }

  /**
   * Finishes a device found UPDATING at start: nothing was written during `backup` (back to PENDING); during
   * `flashing`/`hello` the app may be half-new, so the backup is flashed back and the update is tried again
   * (PENDING, attempts counted); during `rollback`, the rollback is done again.
   */
  async recover(rollout: Rollout, deviceId: string): Promise<Rollout> {
    const dev = this.device(rollout, deviceId);
    if (dev.step === 'backup' || dev.step === null)
      return this.end(rollout, dev, 'PENDING', 'the agent stopped before flashing', dev.fw);
    let link: DeviceFlashLink;
    try {
      link = await this.d.access.open(deviceId);
    } catch (err) {
      dev.reason = `rollback pending: cannot reach the device: ${reasonOf(err)}`;
      this.d.journal.saveDevice(rollout, dev);
      return rollout;
    }
    try {
      if (dev.step === 'rollback')
        return await this.rollBack(
          rollout,
          dev,
          link,
          dev.rollbackReason ?? 'the agent stopped during a rollback',
          'FAILED',
        );
      return await this.rollBack(
        rollout,
        dev,
        link,
        `the agent stopped while ${dev.step === 'hello' ? 'waiting for the hello' : 'flashing'}`,
        'PENDING',
      );
    } finally {
      await link.close().catch(() => {});
    }
  }

  private async ensureBackup(dev: DeviceUpdate, readRunning: () => Promise<Buffer>): Promise<void> {
    const kept = this.d.rollbacks.get(dev.id);
    if (kept && kept.version === dev.fromVersion) return;
    const running = await readRunning();
    const inspection = inspectEspImage(running);
    const problems = inspection.problems.map((p) => p.message);
    const version = inspection.appDescriptor?.version ?? null;
    if (problems.length > 0 || version === null)
      throw new BackupRefused(
        `cannot back up the running image: ${problems.join('; ') || 'no app descriptor'}`,
      );
    if (dev.fromVersion !== null && version !== dev.fromVersion)
      throw new BackupRefused(
        `cannot back up the running image: flash holds ${version}, the device says ${dev.fromVersion}`,
      );
    this.d.rollbacks.put(dev.id, { version, image: running });
    dev.fromVersion = version;
  }

  /** Flashes the backup back; `then` is the device's state if the old version says hello again. */
  private async rollBack(
    rollout: Rollout,
    dev: DeviceUpdate,
    link: DeviceFlashLink,
    reason: string,
    then: 'FAILED' | 'PENDING',
  ): Promise<Rollout> {
    const backup = this.d.rollbacks.get(dev.id);
    dev.rollbackReason = reason;
    this.step(rollout, dev, 'rollback');
    if (!backup) {
      // Only reachable if the backup file was lost from disk after it was checked: say so, loudly.
      dev.reason = `${reason}; NO BACKUP IMAGE to roll back to: reflash by hand (edge-agent flash)`;
      this.d.journal.saveDevice(rollout, dev);
      return rollout;
    }
    try {
      await link.flashApp(backup.image, { beforeWrite: async () => {} });
    } catch (err) {
      // Stays UPDATING/rollback in the journal: the next start (or retry) rolls back again.
      dev.reason = `${reason}; rollback to ${backup.version} failed (${reasonOf(err)}), will retry`;
      this.d.journal.saveDevice(rollout, dev);
      return rollout;
    }
    const hello = await this.hello(link);
    const back = hello?.fw === backup.version;
    const why =
      then === 'PENDING'
        ? `${reason}; rolled back to ${backup.version}, will try again`
        : `${reason}; rolled back to ${backup.version}${back ? '' : ' (flashed and verified, but no hello from it either)'}`;
    return this.end(rollout, dev, then, why, back ? backup.version : dev.fromVersion);
  }

  /** A port error while listening is no hello: the rollback decides, never an exception out of the rollout. */
  private async hello(link: DeviceFlashLink): Promise<{ id: string; fw: string } | null> {
    try {
      return await link.waitHello(this.d.helloTimeoutMs);
    } catch {
      return null;
    }
  }

  private notWritten(rollout: Rollout, dev: DeviceUpdate, reason: string): Rollout {
    const state = dev.attempts >= this.d.maxAttempts ? 'FAILED' : 'PENDING';
    return this.end(rollout, dev, state, `${reason} (nothing written)`, dev.fw);
  }

  private end(
    rollout: Rollout,
    dev: DeviceUpdate,
    state: DeviceUpdate['state'],
    reason: string | null,
    fw: string | null,
  ): Rollout {
    dev.state = state;
    dev.step = null;
    dev.reason = reason;
    dev.rollbackReason = null;
    dev.fw = fw;
    if (state === 'UPDATED') dev.progress = 100;
    this.d.journal.saveDevice(rollout, dev);
    this.d.onChange?.(rollout);
    return rollout;
  }

  private step(rollout: Rollout, dev: DeviceUpdate, step: UpdateStep): void {
    dev.step = step;
    this.d.journal.saveDevice(rollout, dev);
    this.d.onChange?.(rollout);
  }

  private device(rollout: Rollout, id: string): DeviceUpdate {
    const dev = rollout.devices.find((x) => x.id === id);
    if (!dev) throw new Error(`device ${id} is not part of the rollout`);
    return dev;
  }
}
