import type { ScriptStatus } from '../sandbox';

/** One (profile, campaign) line of `status.engagement`. */
export interface EngagementRow {
  profile: string;
  campaign: string;
  index: number;
  r: number | null;
  f: number;
  v: number | null;
  armed: boolean;
  lastTriggerAt: string | null;
}

/** The `status --json` / `GET /api/status` document (DESIGN §9 keys are a contract; extra keys may be added). */
export interface StatusDocument {
  gateway: { id: string; version: string; uptimeS: number; startedAt: string };
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
  }>;
  ingest: {
    accepted: number;
    droppedNoConsent: number;
    duplicates: number;
    framesBad: number;
    refusedStorageFull?: number;
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
  storage: { usedBytes: number; maxBytes: number; full: boolean };
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
  /** user scripts (DESIGN §8): state (ok, disabled for 60 s after 3 failures in a row…), calls, last error */
  scripts: ScriptStatus[];
  /** qualifying events a condition script refused or could not decide, V scorings that failed */
  scriptOutcomes: { conditionRejected: number; conditionFailed: number; scoreFailed: number };
}

/** `edge-agent sync --json` / `GET /api/sync`. */
export interface SyncDocument {
  configured: boolean;
  upstream: StatusDocument['upstream'];
  outbox: StatusDocument['outbox'] & { byKind: Record<string, { rows: number; bytes: number }> };
  storage: StatusDocument['storage'];
  batch: { maxRows: number; maxBytes: number; delayMs: number; maxPayloadBytes: number } | null;
}
