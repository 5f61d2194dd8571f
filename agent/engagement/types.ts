export const CHANNELS = ['push', 'sms', 'email', 'device'] as const;
export type Channel = (typeof CHANNELS)[number];

export type CampaignValue = { kind: 'constant'; v: number } | { kind: 'upstream'; default?: number };

export interface CampaignRule {
  id: string;
  threshold: number;
  cooldownMs: number;
  channels: Channel[];
  value: CampaignValue;
}

export interface EngagementOptions {
  windowDays: number;
  recencyFloorDays: number;
  recencyScale: number;
}

/** Consent checks the engine asks at a crossing (campaign layer, channel layer). */
export interface TriggerGate {
  campaignConsent(profile: string, campaign: string): boolean;
  allowedChannels(profile: string, channels: Channel[]): Channel[];
}

export type BlockedReason = 'cooldown' | 'consent' | 'channels' | 'no-value';

export interface Evaluation {
  profile: string;
  campaign: string;
  at: number;
  index: number;
  /** days since the last qualifying event (unfloored); null when none in the window */
  r: number | null;
  f: number;
  v: number | null;
  trigger: null | { channels: Channel[] };
  blocked?: BlockedReason;
}

/** A (profile, campaign)'s index and its terms, as status rows and upstream signals carry them. */
export type IndexFigures = Pick<Evaluation, 'profile' | 'campaign' | 'index' | 'r' | 'f' | 'v'>;

/** Which device (and data category) a qualifying event came from. */
export interface EventSource {
  device: string;
  category: string;
}

/** What a consent withdrawal erases: whole keys, or only what one device (category) contributed. */
export interface PurgeFilter {
  profile?: string;
  campaign?: string;
  device?: string;
  category?: string;
}

/** Delta log for persistence: applying these in order to the stored tables reproduces the engine's state. */
export type StateChange =
  | { op: 'event'; profile: string; campaign: string; t: number; device: string; category: string }
  | { op: 'prune'; profile: string; campaign: string; before: number }
  | { op: 'state'; profile: string; campaign: string; armed: boolean; lastTriggerAt: number | null; v: number | null }
  | ({ op: 'purge' } & PurgeFilter)
  /** the engine's monotonic evaluation time advanced (persisted so a restart does not move time backwards) */
  | { op: 'clock'; now: number };

export interface KeySnapshot {
  profile: string;
  campaign: string;
  events: number[];
  /** parallel to events; absent in snapshots from before sources were tracked */
  sources?: EventSource[];
  armed: boolean;
  lastTriggerAt: number | null;
  v: number | null;
}

export interface EngagementSnapshot {
  version: 1;
  /** latest evaluation time seen (evaluation time never goes backwards) */
  now: number;
  keys: KeySnapshot[];
}
