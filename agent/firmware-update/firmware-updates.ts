import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_SCHEMA } from '../config/schema';
import { inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import { removeOrphanTempFiles } from './durable-file';
import { DurableJsonFile } from './durable-json-file';
import { HouseholdChoices, type HouseholdChoice, type HouseholdRequest } from './household-choices';
import { PackageChecksum, samePackage, type FirmwarePackage } from './firmware-package';
import { DownloadFailure } from './download-failure';
import { PackageDownloadStore } from './package-download-store';
import { packageImageProblems, type VerifiedPackage } from './package-verification';
import { RolloutExecutor, type DeviceAccess } from './rollout-executor';
import { FileRollbackImages, FileRolloutJournal } from './rollout-journal';
import {
  packageState,
  planRollout,
  type DeviceFacts,
  type DeviceUpdate,
  type PackageState,
  type Rollout,
  type RolloutPolicy,
} from './rollout-plan';

export interface FirmwareUpdateOptions {
  /** bytes for downloads, the verified package and rollback images (docs/firmware-updates.md §4) */
  maxBytes: number;
  window: string | null;
  helloTimeoutMs: number;
  maxAttempts: number;
}

const CONFIGURED = CONFIG_SCHEMA.properties.firmware.properties;
/** The `firmware:` section's defaults (the schema's), for what runs without a config (the CLI, tests). */
export const DEFAULT_FIRMWARE_OPTIONS: FirmwareUpdateOptions = {
  maxBytes: CONFIGURED.maxBytes.default,
  window: null,
  helloTimeoutMs: CONFIGURED.helloTimeoutS.default * 1000,
  maxAttempts: CONFIGURED.maxAttempts.default,
};

export type { HouseholdChoice } from './household-choices';

/** What `firmware status`, `status --json` and upstream reporting show. */
export interface FirmwareStatus {
  package: { title: string; version: string; size: number } | null;
  state: PackageState | null;
  /** bytes on disk while DOWNLOADING */
  bytes: number | null;
  error: string | null;
  devices: Array<DeviceUpdate & { doNotUpdate: boolean; deferredUntil: number | null }>;
}

interface CampaignRecord {
  pkg: FirmwarePackage;
  state: PackageState;
  error: string | null;
}

/** Thrown for requests a technician or the platform got wrong; the message is the one line to show. */
export class FirmwareRequestError extends Error {}

/**
 * The firmware-update state of one gateway in `<dataDir>/firmware`: the campaign (package + its state), the
 * download store, the rollout journal, the rollback images and the household's choices. Everything is a file
 * replaced atomically, so every command and the agent see the same state and survive power cuts.
 */
export class FirmwareUpdates {
  readonly dir: string;
  readonly store: PackageDownloadStore;
  readonly journal: FileRolloutJournal;
  readonly rollbacks: FileRollbackImages;
  private readonly campaignFile: DurableJsonFile<CampaignRecord>;
  readonly householdChoices: HouseholdChoices;

  constructor(
    dataDir: string,
    readonly opts: FirmwareUpdateOptions = DEFAULT_FIRMWARE_OPTIONS,
  ) {
    this.dir = path.join(dataDir, 'firmware');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.store = new PackageDownloadStore(this.dir, opts.maxBytes);
    this.journal = new FileRolloutJournal(this.dir);
    this.rollbacks = new FileRollbackImages(this.store.rollbackDir);
    this.campaignFile = new DurableJsonFile(path.join(this.dir, 'campaign.json'));
    this.householdChoices = new HouseholdChoices(this.dir, this.journal.lock);
    removeOrphanTempFiles(this.dir);
    for (const e of fs.readdirSync(this.dir, { withFileTypes: true }))
      if (e.isDirectory()) removeOrphanTempFiles(path.join(this.dir, e.name));
  }

  get policy(): RolloutPolicy {
    return { window: this.opts.window, maxAttempts: this.opts.maxAttempts };
  }

  campaign(): CampaignRecord | null {
    return this.campaignFile.read();
  }

  setCampaign(pkg: FirmwarePackage, state: PackageState, error: string | null = null): void {
    this.campaignFile.write({ pkg, state, error });
  }

  household(): Record<string, HouseholdChoice> {
    return this.householdChoices.all();
  }

  /** `firmware defer`, the panel: until a time, never (`do not update`), or cleared (under the state lock). */
  defer(device: string, choice: HouseholdRequest): HouseholdChoice {
    return this.householdChoices.set(device, choice);
  }

  /** `firmware retry`: a FAILED (or given-up) device goes back to PENDING with its attempts reset. */
  retry(device: string): DeviceUpdate {
    return this.journal.lock.hold(() => this.retryLocked(device));
  }

  private retryLocked(device: string): DeviceUpdate {
    const r = this.journal.load();
    const d = r?.devices.find((x) => x.id === device);
    if (!r || !d)
      throw new FirmwareRequestError(
        `device ${device} is not part of a firmware rollout (edge-agent firmware status)`,
      );
    if (d.state === 'UPDATING') throw new FirmwareRequestError(`device ${device} is being updated right now`);
    if (d.state !== 'FAILED')
      throw new FirmwareRequestError(`device ${device} is ${d.state}, not FAILED: nothing to retry`);
    d.state = 'PENDING';
    d.attempts = 0;
    d.reason = null;
    this.journal.save(r);
    this.refreshCampaign(r);
    return d;
  }

  /**
   * A package file from the technician (no platform involved): checked like a download (the flasher's image
   * checks, app descriptor) and made the campaign's verified package. Title and version come from the image.
   */
  importPackage(file: string): VerifiedPackage {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new FirmwareRequestError(`cannot read package ${file}: ${(err as Error).message}`);
    }
    const desc = inspectEspImage(bytes).appDescriptor;
    if (!desc) throw new FirmwareRequestError(`${file} is not an ESP-IDF app image with an app descriptor`);
    const pkg: FirmwarePackage = {
      title: desc.projectName,
      version: desc.version,
      size: bytes.length,
      checksum: new PackageChecksum('SHA256').update(bytes).digest(),
      checksumAlgorithm: 'SHA256',
      tag: null,
      devices: null,
    };
    const problems = packageImageProblems(pkg, bytes);
    if (problems.length > 0) throw new FirmwareRequestError(`refusing ${file}: ${problems.join('; ')}`);
    try {
      // the whole file as one chunk: a download of the same package under way (chunks of its own size) is replaced
      // (another package's is replaced by begin, once the budget allows this one)
      const underWay = this.store.current();
      if (underWay && samePackage(underWay.pkg, pkg)) this.store.discard();
      this.store.begin(pkg, bytes.length);
      this.store.append(0, bytes);
      const v = this.store.finish();
      this.startRollout(pkg);
      return v;
    } catch (err) {
      if (err instanceof DownloadFailure) throw new FirmwareRequestError(err.message);
      throw err;
    }
  }

  /** A newly verified package starts a new rollout (a re-verified same package keeps its journal). */
  startRollout(pkg: FirmwarePackage): void {
    this.journal.lock.hold(() => {
      const cur = this.journal.load();
      if (!cur || !samePackage(cur.pkg, pkg)) this.journal.save({ pkg, devices: [] });
      this.setCampaign(pkg, 'VERIFIED');
    });
  }

  /** The rollout with the devices' current facts applied, and what to do next. */
  plan(facts: readonly DeviceFacts[], now: number): ReturnType<typeof planRollout> | null {
    return this.journal.lock.hold(() => this.planLocked(facts, now));
  }

  private planLocked(facts: readonly DeviceFacts[], now: number): ReturnType<typeof planRollout> | null {
    const r = this.journal.load();
    if (!r) return null;
    const household = this.household();
    const withChoices = facts.map((f) => ({
      ...f,
      doNotUpdate: f.doNotUpdate || household[f.id]?.doNotUpdate === true,
      deferredUntil: f.deferredUntil ?? household[f.id]?.deferredUntil ?? null,
    }));
    const p = planRollout(r, withChoices, this.policy, now);
    this.journal.save(p.rollout);
    this.refreshCampaign(p.rollout);
    return p;
  }

  executor(access: DeviceAccess, onChange?: (r: Rollout) => void): RolloutExecutor {
    const verified = this.store.verified();
    if (!verified)
      throw new FirmwareRequestError(
        'no verified firmware package on this gateway (edge-agent firmware status)',
      );
    return new RolloutExecutor({
      journal: this.journal,
      rollbacks: this.rollbacks,
      access,
      image: verified.image,
      helloTimeoutMs: this.opts.helloTimeoutMs,
      maxAttempts: this.opts.maxAttempts,
      onChange: (r) => {
        this.refreshCampaign(r);
        onChange?.(r);
      },
    });
  }

  /** Keeps the campaign's state in step with the rollout once the package is verified. */
  refreshCampaign(r: Rollout): void {
    const next = (): CampaignRecord | null => {
      const c = this.campaignFile.peek();
      if (!c || c.pkg.checksum !== r.pkg.checksum) return null;
      if (c.state === 'DOWNLOADING' || c.state === 'DOWNLOADED') return null;
      const state = packageState(r);
      const failed = r.devices.filter((d) => d.state === 'FAILED');
      const error = state === 'FAILED' ? failed.map((d) => `${d.id}: ${d.reason}`).join('; ') : null;
      return state !== c.state || error !== c.error ? { pkg: c.pkg, state, error } : null;
    };
    // decided again under the lock: the campaign may have been replaced meanwhile (firmware import)
    if (next())
      this.journal.lock.hold(() => {
        const n = next();
        if (n) this.setCampaign(n.pkg, n.state, n.error);
      });
  }

  /**
   * Called on every status document (GET /api/status, /metrics, the panel, the sync heartbeat): each file is
   * one stat unless it changed, and the download store is asked only while a download runs.
   */
  status(): FirmwareStatus {
    const c = this.campaignFile.peek();
    const r = this.journal.peek();
    const household = this.householdChoices.peek();
    return {
      package: c ? { title: c.pkg.title, version: c.pkg.version, size: c.pkg.size } : null,
      state: c?.state ?? null,
      bytes: c?.state === 'DOWNLOADING' ? (this.store.current()?.bytes ?? 0) : null,
      error: c?.error ?? null,
      devices: (r?.devices ?? []).map((d) => ({
        ...d,
        doNotUpdate: household[d.id]?.doNotUpdate === true,
        deferredUntil: household[d.id]?.deferredUntil ?? null,
      })),
    };
  }
}
