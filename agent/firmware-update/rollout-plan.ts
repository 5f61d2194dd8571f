import { byCodeUnits } from '../code-unit-order';
import type { FirmwarePackage } from './firmware-package';

/** ThingsBoard's device-reported OTA states (OtaPackageUpdateStatus), as the package's state on the gateway. */
export type PackageState = 'DOWNLOADING' | 'DOWNLOADED' | 'VERIFIED' | 'UPDATING' | 'UPDATED' | 'FAILED';

export type DeviceUpdateState = 'PENDING' | 'UPDATING' | 'UPDATED' | 'FAILED' | 'SKIPPED';
/** what an UPDATING device is doing; journaled before the step starts (docs/firmware-updates.md §5) */
export type UpdateStep = 'backup' | 'flashing' | 'hello' | 'rollback';

export interface DeviceUpdate {
  id: string;
  model: string;
  state: DeviceUpdateState;
  step: UpdateStep | null;
  /** the version the device ran before the update (what a rollback restores) */
  fromVersion: string | null;
  /** the version it reports now */
  fw: string | null;
  progress: number;
  attempts: number;
  /** why it is PENDING (busy, deferred, outside the window…), SKIPPED, or FAILED */
  reason: string | null;
  /** why a rollback is under way (reported when it ends) */
  rollbackReason: string | null;
}

export interface Rollout {
  pkg: FirmwarePackage;
  devices: DeviceUpdate[];
}

/** What the gateway knows of a paired device right now. */
export interface DeviceFacts {
  id: string;
  model: string | null;
  fw: string | null;
  connected: boolean;
  /** no unacked frames either way, not mid-command */
  idle: boolean;
  /** the household's "do not update" */
  doNotUpdate: boolean;
  /** epoch ms until which the household deferred it */
  deferredUntil: number | null;
}

export interface RolloutPolicy {
  /** "HH:MM-HH:MM" in gateway local time (may wrap midnight); null: any time */
  window: string | null;
  /** update attempts (including ones cut by a restart) before a device is FAILED */
  maxAttempts: number;
}

export type RolloutAction =
  | { kind: 'update'; device: string }
  /** an UPDATING device found at start (the agent died mid-update): finish or undo its step */
  | { kind: 'recover'; device: string }
  | { kind: 'wait' }
  | { kind: 'done' };

const minutes = (hhmm: string): number => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`"${hhmm}" is not a time (HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/** Checks a maintenance window text; throws with what is wrong. */
export function parseWindow(window: string): { from: number; to: number } {
  const parts = window.split('-');
  if (parts.length !== 2) throw new Error(`maintenance window "${window}" is not "HH:MM-HH:MM"`);
  return { from: minutes(parts[0].trim()), to: minutes(parts[1].trim()) };
}

/** Whether local time `at` is inside the window (`02:00-05:00`, or wrapping like `22:00-04:00`). */
export function inWindow(window: string | null, at: Date): boolean {
  if (window === null) return true;
  const { from, to } = parseWindow(window);
  const now = at.getHours() * 60 + at.getMinutes();
  return from <= to ? now >= from && now < to : now >= from || now < to;
}

/** Whether a paired device is a target of the package (by model, narrowed by the package's device list). */
export function isTarget(pkg: FirmwarePackage, d: Pick<DeviceFacts, 'id' | 'model'>): boolean {
  return d.model === pkg.title && (pkg.devices === null || pkg.devices.includes(d.id));
}

const fresh = (pkg: FirmwarePackage, f: DeviceFacts): DeviceUpdate => ({
  id: f.id,
  model: f.model ?? pkg.title,
  state: 'PENDING',
  step: null,
  fromVersion: f.fw,
  fw: f.fw,
  progress: 0,
  attempts: 0,
  reason: null,
  rollbackReason: null,
});

/**
 * The rollout's next move, pure (docs/firmware-updates.md §5): new targets are added, devices already on the
 * version are UPDATED, "do not update" devices SKIPPED; an UPDATING device is recovered first; otherwise the first
 * PENDING device (by id) that is connected, idle, not deferred, inside the window is updated — one at a time.
 * Every PENDING device that cannot go gets the reason.
 */
export function planRollout(
  rollout: Rollout,
  facts: readonly DeviceFacts[],
  policy: RolloutPolicy,
  now: number,
): { rollout: Rollout; action: RolloutAction } {
  const byId = new Map(rollout.devices.map((d) => [d.id, { ...d }]));
  for (const f of facts) {
    if (!isTarget(rollout.pkg, f) || byId.has(f.id)) continue;
    byId.set(f.id, fresh(rollout.pkg, f));
  }
  const devices = [...byId.values()].sort((a, b) => byCodeUnits(a.id, b.id));
  const factOf = new Map(facts.map((f) => [f.id, f]));
  const recovering = devices.find((d) => d.state === 'UPDATING');
  const windowOpen = inWindow(policy.window, new Date(now));
  let chosen: string | null = null;
  for (const d of devices) {
    const f = factOf.get(d.id);
    if (f?.fw != null) d.fw = f.fw;
    if (d.state === 'SKIPPED' && f && !f.doNotUpdate) {
      d.state = 'PENDING';
      d.reason = null;
    }
    if (d.state !== 'PENDING') continue;
    if (d.fw === rollout.pkg.version) {
      d.state = 'UPDATED';
      d.reason = null;
      continue;
    }
    if (f?.doNotUpdate) {
      d.state = 'SKIPPED';
      d.reason = 'household chose do not update';
      continue;
    }
    if (d.attempts >= policy.maxAttempts) {
      d.state = 'FAILED';
      d.reason ??= `gave up after ${d.attempts} attempts`;
      continue;
    }
    const why = !f
      ? 'not paired any more'
      : !f.connected
        ? 'not connected'
        : f.deferredUntil !== null && f.deferredUntil > now
          ? `deferred by the household until ${new Date(f.deferredUntil).toISOString()}`
          : !f.idle
            ? 'busy (unacked frames or a command in progress)'
            : !windowOpen
              ? `outside the maintenance window ${policy.window}`
              : null;
    if (why !== null || recovering || chosen !== null) {
      d.reason = why ?? 'waiting for its turn (one device at a time)';
      continue;
    }
    d.reason = null;
    chosen = d.id;
  }
  const next: Rollout = { pkg: rollout.pkg, devices };
  if (recovering) return { rollout: next, action: { kind: 'recover', device: recovering.id } };
  if (chosen !== null) return { rollout: next, action: { kind: 'update', device: chosen } };
  const open = devices.some((d) => d.state === 'PENDING');
  return { rollout: next, action: open ? { kind: 'wait' } : { kind: 'done' } };
}

/**
 * The package's state as the platform sees it once downloaded and verified: UPDATING while any device is,
 * UPDATED when every target is UPDATED or SKIPPED, FAILED when none is left to try and one failed.
 */
export function packageState(rollout: Rollout): PackageState {
  const ds = rollout.devices;
  if (ds.some((d) => d.state === 'UPDATING')) return 'UPDATING';
  if (ds.some((d) => d.state === 'PENDING'))
    return ds.some((d) => d.state !== 'PENDING') ? 'UPDATING' : 'VERIFIED';
  if (ds.some((d) => d.state === 'FAILED')) return 'FAILED';
  return ds.length > 0 ? 'UPDATED' : 'VERIFIED';
}
