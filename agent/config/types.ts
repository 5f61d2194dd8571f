import type { Category } from '../../firmware-bridge/protocol';
import type { Channel } from '../engagement/types';
import type { NumericFormat } from '../../drivers/ble/characteristic-decoder';

export type SimModel = 'kitchen-scale' | 'fridge-door' | 'presence' | 'wearable';
export const SIM_MODELS: readonly SimModel[] = ['kitchen-scale', 'fridge-door', 'presence', 'wearable'];

interface DeviceBase {
  id: string;
  profile?: string;
}
export interface SerialDeviceConfig extends DeviceBase {
  transport: 'serial';
  port: string;
  baud: number;
}
/** How a third-party characteristic's bytes become numbers (docs/ble.md). */
export type BleDecoderConfig =
  | { kind: 'numeric'; format: NumericFormat; scale: number; offset: number }
  /** the Environmental Sensing / Battery characteristics, decoded by their SIG definition */
  | { kind: 'standard' }
  | ({ kind: 'script' } & ScriptSourceConfig);

/** One mapped characteristic of a third-party BLE sensor (the ThingsBoard BLE connector's model). */
export interface BleCharacteristicConfig {
  /** full lower-case 128-bit UUID */
  uuid: string;
  service?: string;
  mode: 'notify' | 'read';
  /** read mode: poll period */
  pollMs: number;
  decoder: BleDecoderConfig;
  /** the values it yields, each a channel of the synthesised hello */
  channels: Array<{ key: string; kind: string }>;
  category: Category;
}
export interface BleDeviceConfig extends DeviceBase {
  transport: 'ble';
  address: string;
  /** present for third-party sensors; our firmware describes itself in its hello */
  deviceType?: string;
  characteristics?: BleCharacteristicConfig[];
}
export interface SimDeviceConfig extends DeviceBase {
  transport: 'sim';
  model: SimModel;
  ratePerMin?: number;
}
export type DeviceConfig = SerialDeviceConfig | BleDeviceConfig | SimDeviceConfig;

/** User JavaScript from the config: inline (`script:`) or from a file (`scriptFile:`, kept for error messages). */
export interface ScriptSourceConfig {
  source: string;
  file?: string;
}

export type CampaignValueConfig =
  | { kind: 'constant'; v: number }
  | { kind: 'upstream'; default?: number }
  | ({ kind: 'script' } & ScriptSourceConfig);

export interface CampaignConfig {
  id: string;
  qualify: { event: string; devices?: string[]; condition?: ScriptSourceConfig };
  value: CampaignValueConfig;
  threshold: number;
  cooldownMs: number;
  channels: Channel[];
  /** what counts as a conversion (docs/outcomes.md); the loader fills the defaults, hand-built configs may omit it */
  conversion?: ConversionConfig;
  /** dwell time at a triggered location (docs/outcomes.md) */
  dwell?: DwellConfig;
  /** what channel `device` shows on the device that qualified: display text, LED colour, buzzer */
  notify?: NotifyTemplateConfig;
}

export interface ConversionConfig {
  /** device events that are a purchase, e.g. reorder, dispense */
  events: string[];
  /** a conversion counts for a trigger only this long after it */
  attributionWindowMs: number;
}

export interface DwellConfig {
  /** a presence session starting this long after a trigger is "triggered"; others are the baseline */
  withinMs: number;
  /** an unmatched presence_start closes here (or at the next start), counted as truncated */
  capMs: number;
  /** presence devices that count (default: every device of the profile) */
  devices?: string[];
}

/** `{campaign}` and `{index}` in `text` are filled in at delivery. */
export interface NotifyTemplateConfig {
  text?: string;
  led?: string;
  buzz?: boolean;
}

/** Campaign outcome bookkeeping (docs/outcomes.md). */
export interface OutcomesConfig {
  /** how often an aggregate `outcomes` signal per campaign is queued for upstream */
  signalIntervalS: number;
  /** an index sample per (profile, campaign) at most this often (triggers always sampled) */
  sampleIntervalS: number;
  /** index samples kept per (profile, campaign), oldest dropped first */
  maxSamplesPerKey: number;
  /** triggers, purchases and presence older than this are deleted */
  retentionDays: number;
  /** channel `device`: wait this long for the ack before each retry, and how many sends in all */
  deliveryAckTimeoutMs: number;
  deliveryAttempts: number;
}

export type ConsentGrantConfig =
  | { device: string; category: Category | '*' }
  | { profile: string; campaign: string }
  | { profile: string; channel: Channel };

export interface UpstreamConfig {
  url: string;
  profile: 'generic' | 'thingsboard';
  baseTopic: string;
  clientId?: string;
  username?: string;
  password?: string;
  /** ThingsBoard device access token of the gateway (sent as the MQTT username) */
  accessToken?: string;
  ca?: string;
  cert?: string;
  key?: string;
  keepaliveS: number;
  /** the broker's payload limit (ThingsBoard: transport.mqtt.max_payload_size, 64 KiB by default); batches are split under it */
  maxPayloadBytes: number;
  /** a batch closes at whichever bound is hit first */
  batch: { maxRows: number; maxBytes: number; delayMs: number };
  /** reconnect delay: exponential from minMs to maxMs with full jitter */
  reconnect: { minMs: number; maxMs: number };
}

/** The household privacy panel (docs/panel.md). */
export interface PanelConfig {
  enabled: boolean;
  /** LAN mode: a second listener serving only the panel, e.g. "0.0.0.0:8788" */
  lanListen?: string;
  /** host names the panel answers to besides IP literals, localhost and this machine's name (DNS-rebinding guard) */
  allowedHosts: string[];
  sessionHours: number;
}

export interface AgentConfig {
  gateway: { id: string; dataDir: string };
  /** `panel` is filled by the loader; absent (hand-built configs) means enabled, loopback only, 12 h sessions */
  api: { listen: string; panel?: PanelConfig };
  upstream?: UpstreamConfig;
  devices: DeviceConfig[];
  campaigns: CampaignConfig[];
  engagement: {
    windowDays: number;
    recencyFloorDays: number;
    recencyScale: number;
    /** index updates per (profile, campaign) are sent upstream at most this often; triggers at once */
    signalIntervalS: number;
  };
  storage: { maxBytes: number; rawRetentionDays: number; groupCommitMs: number; groupCommitRows: number };
  /** per-device flood protection (absent in programmatic configs: no limit) */
  ingest?: { maxFramesPerSecondPerDevice: number };
  consent: {
    policyVersion: number;
    /** grants for these categories count only if given under at least this policy version (re-consent) */
    requirePolicy: Record<string, number>;
    /** categories a device's own privacy button may grant ("*" for all non-special); withdrawing is always allowed */
    deviceButtonMayGrant: string[];
    grants: ConsentGrantConfig[];
  };
  /** campaign outcome bookkeeping; the loader always fills it, defaults otherwise */
  outcomes?: OutcomesConfig;
  /** limits for every user script (DESIGN §8); the loader always fills it, defaults otherwise */
  scripts?: { timeoutMs: number; memoryMb: number; maxOutputKb: number };
  /** `file`: the JSON-lines log `edge-agent logs` reads (false: none); unset means <dataDir>/agent.log unless under journald */
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; file?: string | false; maxFileBytes?: number };
}
