import type { Category } from '../../firmware-bridge/protocol';
import type { Channel } from '../engagement/types';

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
export interface BleDeviceConfig extends DeviceBase {
  transport: 'ble';
  address: string;
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

export interface AgentConfig {
  gateway: { id: string; dataDir: string };
  api: { listen: string };
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
  consent: {
    policyVersion: number;
    /** grants for these categories count only if given under at least this policy version (re-consent) */
    requirePolicy: Record<string, number>;
    /** categories a device's own privacy button may grant ("*" for all non-special); withdrawing is always allowed */
    deviceButtonMayGrant: string[];
    grants: ConsentGrantConfig[];
  };
  /** limits for every user script (DESIGN §8); the loader always fills it, defaults otherwise */
  scripts?: { timeoutMs: number; memoryMb: number; maxOutputKb: number };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
}
