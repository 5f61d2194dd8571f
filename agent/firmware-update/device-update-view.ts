import { FIRMWARE_DEFER_MAX_HOURS } from '../../firmware-bridge/protocol';
import type { FirmwareStatus } from './firmware-updates';
import type { HouseholdChoice, HouseholdRequest } from './household-choices';
import type { DeviceUpdateState, UpdateStep } from './rollout-plan';

/** One device's firmware update as `devices show` and the household panel show it. */
export interface DeviceUpdateView {
  package: { title: string; version: string };
  state: DeviceUpdateState;
  step: UpdateStep | null;
  progress: number;
  /** why it waits, was skipped or failed */
  reason: string | null;
  /** the household's "do not update" */
  doNotUpdate: boolean;
  /** ISO time until which the household deferred it, null when not deferred (or the time has passed) */
  deferredUntil: string | null;
}

/** The device's part of the gateway's rollout, or null when no package targets it. */
export function deviceUpdateView(status: FirmwareStatus, deviceId: string, now: number): DeviceUpdateView | null {
  const d = status.devices.find((x) => x.id === deviceId);
  if (!status.package || !d) return null;
  return {
    package: { title: status.package.title, version: status.package.version },
    state: d.state,
    step: d.step,
    progress: d.progress,
    reason: d.reason,
    doNotUpdate: d.doNotUpdate,
    deferredUntil: d.deferredUntil !== null && d.deferredUntil > now ? new Date(d.deferredUntil).toISOString() : null,
  };
}

/**
 * Reads a household's request (panel body: `{"choice":"defer","hours":24}`, `{"choice":"never"}`,
 * `{"choice":"clear"}`); throws with a one-line message saying what is wrong. */
export function parseHouseholdRequest(raw: unknown, now: number): HouseholdRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('body must be a JSON object');
  const b = raw as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== 'choice' && k !== 'hours');
  if (extra.length > 0) throw new Error(`unexpected field(s): ${extra.join(', ')}`);
  if (b.choice === 'never' || b.choice === 'clear') {
    if (b.hours !== undefined) throw new Error(`"hours" goes only with "defer"`);
    return b.choice === 'never' ? { never: true } : { clear: true };
  }
  if (b.choice !== 'defer') throw new Error('"choice" must be "defer", "never" or "clear"');
  const hours = b.hours ?? 24;
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > FIRMWARE_DEFER_MAX_HOURS)
    throw new Error(`"hours" must be a positive number of hours, at most ${FIRMWARE_DEFER_MAX_HOURS}`);
  return { until: now + hours * 3600_000 };
}

/** The household's choice in one line (devices show, the panel's announcement). */
export function householdChoiceWords(c: HouseholdChoice): string {
  if (c.doNotUpdate) return 'the household chose do not update';
  if (c.deferredUntil !== null) return `deferred by the household until ${new Date(c.deferredUntil).toISOString()}`;
  return 'updates allowed';
}
