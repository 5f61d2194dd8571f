import type { Category } from '../../firmware-bridge/protocol';
import type { Channel } from '../engagement/types';
import type { NumericFormat } from '../../drivers/ble/characteristic-decoder';
import type { CharacteristicMode } from '../../drivers/ble/ble-device-spec';

import type { SimKind } from '../../drivers/sim/device-catalog';
import type { FromSchema } from './from-schema';
import type { CONFIG_SCHEMA } from './schema';

type SchemaProps = (typeof CONFIG_SCHEMA)['properties'];
/** A top-level section as validation yields it (every default filled), read off the schema. */
type Section<K extends keyof SchemaProps> = FromSchema<SchemaProps[K]>;

/** What a config file, or a config built in code (buildConfig), may say: before defaults and normalisation. */
export type ConfigInput = FromSchema<typeof CONFIG_SCHEMA, 'input'>;
/** The document after schema validation (defaults filled), before the loader's normalisation. */
export type ValidatedConfig = FromSchema<typeof CONFIG_SCHEMA>;

export type SimModel = SimKind;

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
  mode: CharacteristicMode;
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
  /** `language: tbel` in the config (or a .tbel file); JavaScript otherwise */
  language?: 'js' | 'tbel';
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
  conversion: ConversionConfig;
  /** dwell time at a triggered location (docs/outcomes.md) */
  dwell: DwellConfig;
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

/** `upstream:` with its secrets resolved (env or file) and certificate paths made absolute. */
export type UpstreamConfig = Omit<Section<'upstream'>, 'username' | 'password' | 'accessToken'> & {
  username?: string;
  password?: string;
  /** ThingsBoard device access token of the gateway (sent as the MQTT username) */
  accessToken?: string;
};

/** A validated, normalised config: what every part of the agent reads. Built only by parseConfig/buildConfig. */
export interface AgentConfig {
  gateway: Section<'gateway'>;
  api: Section<'api'>;
  upstream?: UpstreamConfig;
  devices: DeviceConfig[];
  campaigns: CampaignConfig[];
  engagement: Section<'engagement'>;
  storage: Section<'storage'>;
  /** per-device flood protection */
  ingest: Section<'ingest'>;
  consent: Omit<Section<'consent'>, 'grants'> & { grants: ConsentGrantConfig[] };
  /** campaign outcome bookkeeping, durations in normal form */
  outcomes: OutcomesConfig;
  /** fleet firmware updates (docs/firmware-updates.md); chunkBytes filled per upstream profile */
  firmware: Section<'firmware'> & { chunkBytes: number };
  /** limits for every user script (DESIGN §8) */
  scripts: Omit<Section<'scripts'>, 'timeout'> & { timeoutMs: number };
  /** `file`: the JSON-lines log `edge-agent logs` reads (false: none); unset means <dataDir>/agent.log unless under journald */
  log: Section<'log'>;
}
