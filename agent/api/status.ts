import type { IndexFigures } from '../engagement';
import type { SandboxStatus, ScriptStatus } from '../sandbox';
import type { OutcomesDocument } from '../outcomes/outcomes-document';
import type { FirmwareStatus } from '../firmware-update/firmware-updates';

/** One (profile, campaign) line of `status.engagement`. */
export interface EngagementRow extends IndexFigures {
  armed: boolean;
  lastTriggerAt: string | null;
}

/** The `status --json` / `GET /api/status` document (DESIGN §9 keys are a contract; extra keys may be added). */
export interface StatusDocument {
  gateway: { id: string; version: string; uptimeS: number; startedAt: string };
  /** fleet firmware updates (docs/firmware-updates.md): the package, its state, every targeted device */
  firmware?: FirmwareStatus;
  devices: Array<{
    id: string;
    transport: string;
    type: string | null;
    profile: string | null;
    connected: boolean;
    lastSeen: string | null;
    framesOk: number;
    framesBad: number;
    fw: string | null;
    link: string | null;
    /** link quality the device reported in its last heartbeat (dBm), and its uptime then */
    rssi?: number | null;
    uptimeS?: number | null;
    /** data frames refused (not acked) over `ingest.maxFramesPerSecondPerDevice` */
    rateLimited?: number;
  }>;
  ingest: {
    accepted: number;
    droppedNoConsent: number;
    duplicates: number;
    framesBad: number;
    refusedStorageFull?: number;
    rateLimited?: number;
    droppedNoConsentByType?: Record<string, number>;
  };
  engagement: EngagementRow[];
  triggers: { total: number };
  outbox: {
    pending: number;
    oldestAgeS: number | null;
    /** rows dropped by the storage.maxBytes policy, all reasons */
    dropped: number;
    bytes: number;
    droppedByReason: Record<string, number>;
    /** queued rows whose consent was withdrawn before they could be sent */
    droppedNoConsentAtSync: number;
  };
  storage: {
    usedBytes: number;
    maxBytes: number;
    full: boolean;
    /** a write failed with SQLITE_FULL: the disk, not maxBytes, is the limit (`limitBytes`) until space returns */
    diskFull?: boolean;
    limitBytes?: number;
  };
  upstream: {
    connected: boolean;
    published: number;
    lastAckAt: string | null;
    url: string | null;
    profile: string | null;
    error: string | null;
    connects: number;
    messages: number;
    payloadBytes: number;
    inFlightRows: number;
    nextRetryAt: string | null;
    downlink: { accepted: number; rejected: number; lastError: string | null };
  };
  consent: {
    optOutByDeviceType: Array<{ type: string; devices: number; optedOut: number; rate: number }>;
    ledgerEntries: number;
  };
  parts: Array<{ name: string; state: 'running' | 'failed' | 'stopped'; error: string | null }>;
  /** per transport driver: its own figures (BLE: adapter state, devices seen but not paired and ignored, link losses) */
  drivers?: Array<{ name: string; stats?: object }>;
  /** user scripts (DESIGN §8): state (ok, disabled for 60 s after 3 failures in a row…), calls, last error */
  scripts: ScriptStatus[];
  /** the worker thread the scripts run in: whether it runs, how often it was replaced (a call stopped from outside) */
  sandbox?: SandboxStatus;
  /** qualifying events a condition script refused or could not decide, V scorings that failed */
  scriptOutcomes: { conditionRejected: number; conditionFailed: number; scoreFailed: number };
  /** campaign outcomes (docs/outcomes.md): conversion, reorder cycle, dwell, opt-out, delivery through the device */
  outcomes?: OutcomesDocument;
  /** errors that reached the last-resort handler (agent/service/last-resort.ts): each one is a bug to report */
  faults?: { uncaughtExceptions: number; unhandledRejections: number; last: string | null; lastAt: string | null };
}

/** `edge-agent sync --json` / `GET /api/sync`. */
export interface SyncDocument {
  configured: boolean;
  upstream: StatusDocument['upstream'];
  outbox: StatusDocument['outbox'] & { byKind: Record<string, { rows: number; bytes: number }> };
  storage: StatusDocument['storage'];
  batch: { maxRows: number; maxBytes: number; delayMs: number; maxPayloadBytes: number } | null;
}
