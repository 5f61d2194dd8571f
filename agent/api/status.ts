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
    droppedNoConsentByType?: Record<string, number>;
  };
  engagement: EngagementRow[];
  triggers: { total: number };
  outbox: { pending: number; oldestAgeS: number | null; dropped: number; bytes: number };
  upstream: { connected: boolean; published: number; lastAckAt: string | null; url: string | null; error: string | null };
  consent: {
    optOutByDeviceType: Array<{ type: string; devices: number; optedOut: number; rate: number }>;
    ledgerEntries: number;
  };
  parts: Array<{ name: string; state: 'running' | 'failed' | 'stopped'; error: string | null }>;
}
