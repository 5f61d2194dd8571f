import type { DeviceAccess } from './rollout-executor';
import type { FirmwareUpdates } from './firmware-updates';
import type { DeviceFacts, Rollout } from './rollout-plan';

export interface RolloutRunnerDeps {
  updates: FirmwareUpdates;
  /** the devices the gateway can flash over USB, as it sees them now */
  facts: () => DeviceFacts[];
  access: DeviceAccess;
  clock: () => number;
  /** after every change (upstream report) */
  onChange: (r: Rollout) => void;
  onError: (err: unknown) => void;
}

/**
 * Drives the rollout in the running agent: at every tick (and when a package is verified) it plans with the
 * devices' current facts and carries out the one action planned — one device at a time, never two runs at once.
 */
export class RolloutRunner {
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly d: RolloutRunnerDeps) {}

  /** Plans and acts once unless a run is under way; resolves when this tick's work is done. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  /** No new step starts; a device being flashed finishes its step (the journal covers a kill anyway). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const c = this.d.updates.campaign();
    if (
      !c ||
      (c.state !== 'VERIFIED' && c.state !== 'UPDATING' && c.state !== 'UPDATED' && c.state !== 'FAILED')
    )
      return;
    if (
      !this.d.updates.store.verified() &&
      !this.d.updates.journal.load()?.devices.some((x) => x.state === 'UPDATING')
    )
      return;
    try {
      while (!this.stopped) {
        const p = this.d.updates.plan(this.d.facts(), this.d.clock());
        if (!p) return;
        this.d.onChange(p.rollout);
        const a = p.action;
        if (a.kind !== 'update' && a.kind !== 'recover') return;
        const exec = this.d.updates.executor(this.d.access, this.d.onChange);
        const before = JSON.stringify(p.rollout.devices.find((x) => x.id === a.device));
        const after =
          a.kind === 'update'
            ? await exec.update(p.rollout, a.device)
            : await exec.recover(p.rollout, a.device);
        this.d.onChange(after);
        const dev = after.devices.find((x) => x.id === a.device);
        // a recover that could not reach the device changed nothing, an update that could not start is PENDING
        // again: try at the next tick, not in a loop that would spend every attempt at once
        if (JSON.stringify(dev) === before || (a.kind === 'update' && dev?.state === 'PENDING')) return;
      }
    } catch (err) {
      this.d.onError(err);
    }
  }
}
