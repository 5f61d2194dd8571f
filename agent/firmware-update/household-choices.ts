import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIRMWARE_DEFER_DEFAULT_HOURS, type FirmwareChoice } from '../../firmware-bridge/protocol';
import { DurableJsonFile } from './durable-json-file';
import { StateFileLock } from './state-file-lock';

/** The household's say per device: deferred until a time, or never updated. */
export interface HouseholdChoice {
  doNotUpdate: boolean;
  deferredUntil: number | null;
}

/** A change of the household's say: deferred until a time, never (`do not update`), or cleared (allowed again). */
export type HouseholdRequest = { until?: number; never?: boolean; clear?: boolean };

/** A device's own button (0x06 firmware-choice) as the same request the panel and the CLI make. */
export function deviceChoiceRequest(choice: { d: FirmwareChoice; h?: number }, now: number): HouseholdRequest {
  if (choice.d === 'never') return { never: true };
  if (choice.d === 'allow') return { clear: true };
  return { until: now + (choice.h ?? FIRMWARE_DEFER_DEFAULT_HOURS) * 3600_000 };
}

/**
 * `<dataDir>/firmware/household.json`: the household's choices, one file whoever writes them — the panel,
 * `edge-agent firmware defer` (another process) and the device's own button (the agent's pipeline). The rollout
 * reads it before every step. Small on purpose: the pipeline loads it without the rest of the firmware updates.
 */
export class HouseholdChoices {
  private readonly file: DurableJsonFile<Record<string, HouseholdChoice>>;

  /** `lock`: the firmware state's cross-process lock (FileRolloutJournal's), the same file whoever makes it */
  constructor(
    private readonly firmwareDir: string,
    private readonly lock = new StateFileLock(path.join(firmwareDir, 'state.lock')),
  ) {
    this.file = new DurableJsonFile(path.join(firmwareDir, 'household.json'));
  }

  /** A copy the caller owns. */
  all(): Record<string, HouseholdChoice> {
    return this.file.read() ?? {};
  }

  /** The current choices, shared: read them, never change them. */
  peek(): Readonly<Record<string, HouseholdChoice>> {
    return this.file.peek() ?? {};
  }

  /**
   * Applies a request durably (fsynced when it returns) and returns the device's choice now. Under the state
   * lock: another process's choice for another device made meanwhile is kept.
   */
  set(device: string, request: HouseholdRequest): HouseholdChoice {
    fs.mkdirSync(this.firmwareDir, { recursive: true, mode: 0o700 });
    return this.lock.hold(() => {
      const all = this.all();
      const next: HouseholdChoice = request.clear
        ? { doNotUpdate: false, deferredUntil: null }
        : { doNotUpdate: request.never === true, deferredUntil: request.until ?? null };
      if (request.clear) delete all[device];
      else all[device] = next;
      this.file.write(all);
      return next;
    });
  }
}
