import { CATEGORIES, SPECIAL_CATEGORIES } from '../../firmware-bridge/protocol';
import { NUMERIC_FORMATS } from '../../drivers/ble/characteristic-decoder';
import { CHARACTERISTIC_MODES } from '../../drivers/ble/ble-device-spec';
import { SIM_KINDS } from '../../drivers/sim/device-catalog';
import { DEFAULT_BAUD } from '../../drivers/serial/baud';
import { CHANNELS } from '../engagement/types';
import { DEFAULT_RECENCY_FLOOR_DAYS, PUBLISHED_SCALE } from '../engagement/index-formula';
import { LOG_LEVELS } from '../logger';
import { SYNC_PROFILES } from '../sync/sync-profile';

/**
 * JSON Schema of the config file (DESIGN §9): the one place each key, its type, its default and its enum are
 * written (types: ./types.ts reads them off with FromSchema). `additionalProperties: false` everywhere so a typo
 * is an error with a suggestion, not a silently ignored key. Shapes with alternatives (campaign `value`, secret
 * references, scripts) are checked by the loader, which gives clearer messages than a oneOf dump.
 */
const ID = '^[A-Za-z0-9._-]{1,64}$';
const CATEGORY_OR_ALL = { enum: [...CATEGORIES, '*'] } as const;
const CHANNEL = { enum: CHANNELS };
/** `7d`, `12h`, `30m`, `45s`, `250ms`, or a number of seconds (parsed, and ranges checked, by the normaliser) */
const DURATION = { type: ['string', 'number'], format: 'duration' } as const;
const duration = <D extends string>(d: D) => ({ ...DURATION, default: d }) as const;
/** 16-bit (`2a6e`, `0x2A6E`), 32-bit or full 128-bit GATT UUIDs */
const UUID = '^(0[xX])?([0-9A-Fa-f]{4}|[0-9A-Fa-f]{8}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$';
const KEY = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
/** where the local API listens unless api.listen says otherwise (the CLI looks there without a config file) */
const DEFAULT_API_LISTEN = '127.0.0.1:8787';
const secret = {};

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['gateway'],
  properties: {
    gateway: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: { type: 'string', pattern: ID },
        dataDir: { type: 'string', minLength: 1, default: './data' },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        listen: { type: 'string', pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$', default: DEFAULT_API_LISTEN },
        /** the household privacy panel (docs/panel.md) */
        panel: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            /** a second listener for phones on the home network (LAN mode); absent = loopback only via api.listen */
            lanListen: { type: 'string', pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$' },
            /** host names (besides IP literals, localhost and this machine's name) the panel answers to */
            allowedHosts: { type: 'array', default: [], items: { type: 'string', pattern: '^[A-Za-z0-9.-]{1,253}$' } },
            sessionHours: { type: 'number', exclusiveMinimum: 0, maximum: 720, default: 12 },
          },
        },
      },
    },
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^(mqtt|mqtts|ws|wss)://[^\\s]+$' },
        profile: { enum: SYNC_PROFILES, default: 'generic' },
        baseTopic: { type: 'string', pattern: '^[^#+\\s]+$', default: 'edge' },
        clientId: { type: 'string', minLength: 1 },
        username: secret,
        password: secret,
        accessToken: secret,
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        keepaliveS: { type: 'integer', minimum: 5, maximum: 3600, default: 30 },
        maxPayloadBytes: { type: 'integer', minimum: 1024, maximum: 268435455, default: 65536 },
        batch: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            maxRows: { type: 'integer', minimum: 1, maximum: 100000, default: 500 },
            maxBytes: { type: 'integer', minimum: 256, maximum: 16777216, default: 65536 },
            delayMs: { type: 'integer', minimum: 0, maximum: 60000, default: 200 },
          },
        },
        reconnect: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            minMs: { type: 'integer', minimum: 10, maximum: 600000, default: 500 },
            maxMs: { type: 'integer', minimum: 10, maximum: 3600000, default: 60000 },
          },
        },
      },
    },
    devices: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'transport'],
        properties: {
          id: { type: 'string', pattern: ID },
          transport: { enum: ['serial', 'ble', 'sim'] },
          profile: { type: 'string', pattern: ID },
          port: { type: 'string', minLength: 1 },
          /** serial only */
          baud: { type: 'integer', minimum: 300, maximum: 4000000, default: DEFAULT_BAUD },
          address: { type: 'string', pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' },
          model: { enum: SIM_KINDS },
          ratePerMin: { type: 'number', exclusiveMinimum: 0 },
          /** BLE third-party sensors (docs/ble.md): shown as the device type */
          deviceType: { type: 'string', pattern: ID },
          characteristics: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['uuid', 'category'],
              properties: {
                uuid: { type: 'string', pattern: UUID },
                service: { type: 'string', pattern: UUID },
                mode: { enum: CHARACTERISTIC_MODES, default: 'notify' },
                /** read mode: the poll period (default 1m, filled by the loader: only read characteristics have one) */
                poll: DURATION,
                format: { enum: NUMERIC_FORMATS },
                scale: { type: 'number' },
                offset: { type: 'number' },
                key: { type: 'string', pattern: KEY },
                keys: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: KEY } },
                kind: { type: 'string', pattern: KEY },
                category: { enum: CATEGORIES },
                /** a sandboxed `Decoder(payload, metadata)`: { script } or { scriptFile }, checked by the loader */
                decoder: {},
              },
            },
          },
        },
        allOf: [
          { if: { properties: { transport: { const: 'serial' } }, required: ['transport'] }, then: { required: ['port'] } },
          { if: { properties: { transport: { const: 'ble' } }, required: ['transport'] }, then: { required: ['address'] } },
          { if: { properties: { transport: { const: 'sim' } }, required: ['transport'] }, then: { required: ['model'] } },
        ],
      },
    },
    campaigns: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'qualify', 'value', 'threshold', 'channels'],
        properties: {
          id: { type: 'string', pattern: ID },
          qualify: {
            type: 'object',
            additionalProperties: false,
            required: ['event'],
            properties: {
              event: { type: 'string', minLength: 1 },
              devices: { type: 'array', items: { type: 'string' }, minItems: 1 },
              /** a rule script `function (msg, metadata, msgType)` returning true/false (DESIGN §8) */
              condition: {},
            },
          },
          value: {},
          threshold: { type: 'number', exclusiveMinimum: 0 },
          cooldown: duration('0s'),
          channels: { type: 'array', items: CHANNEL, minItems: 1, uniqueItems: true },
          /** campaign outcomes (docs/outcomes.md): which device events are purchases, how long a trigger waits for one */
          conversion: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              events: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true, default: ['reorder'] },
              attributionWindow: duration('7d'),
            },
          },
          dwell: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              within: duration('30m'),
              cap: duration('4h'),
              /** presence devices that count (default: every device of the profile) */
              devices: { type: 'array', items: { type: 'string' }, minItems: 1 },
            },
          },
          /** what channel `device` shows: `{campaign}` and `{index}` in text are filled in */
          notify: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              text: { type: 'string', minLength: 1, maxLength: 64 },
              led: { type: 'string', pattern: '^[a-z]{1,12}$' },
              buzz: { type: 'boolean' },
            },
          },
        },
      },
    },
    engagement: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        windowDays: { type: 'number', exclusiveMinimum: 0, default: 30 },
        recencyFloorDays: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_RECENCY_FLOOR_DAYS },
        recencyScale: { type: 'number', exclusiveMinimum: 0, default: PUBLISHED_SCALE },
        signalIntervalS: { type: 'number', minimum: 0, default: 60 },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxBytes: { type: 'integer', minimum: 1048576, default: 268435456 },
        rawRetentionDays: { type: 'number', exclusiveMinimum: 0, default: 30 },
        groupCommitMs: { type: 'number', minimum: 0, maximum: 1000, default: 1000 },
        groupCommitRows: { type: 'integer', minimum: 1, maximum: 100000, default: 500 },
      },
    },
    ingest: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** 500× a home device's rate; a babbling device at 921,600 baud (~4,000 frames/s) is held to this */
        maxFramesPerSecondPerDevice: { type: 'number', minimum: 1, maximum: 1000000, default: 500 },
      },
    },
    consent: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        policyVersion: { type: 'integer', minimum: 1, default: 1 },
        requirePolicy: {
          type: 'object',
          default: {},
          propertyNames: { enum: CATEGORIES },
          additionalProperties: { type: 'integer', minimum: 1 },
        },
        deviceButtonMayGrant: {
          type: 'array',
          default: [],
          uniqueItems: true,
          // never health/biometric: a button press is not explicit consent to special categories
          items: { enum: [...CATEGORIES.filter((c) => !SPECIAL_CATEGORIES.includes(c)), '*'] as const },
        },
        grants: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              device: { type: 'string' },
              category: CATEGORY_OR_ALL,
              profile: { type: 'string', pattern: ID },
              campaign: { type: 'string' },
              channel: CHANNEL,
            },
          },
        },
      },
    },
    firmware: {
      // fleet firmware updates (docs/firmware-updates.md)
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxBytes: { type: 'integer', minimum: 65536, maximum: 268435456, default: 8388608 },
        window: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d-([01]\\d|2[0-3]):[0-5]\\d$' },
        helloTimeoutS: { type: 'number', exclusiveMinimum: 0, maximum: 300, default: 20 },
        /** default per upstream profile (DEFAULT_CHUNK_BYTES, filled by the loader) */
        chunkBytes: { type: 'integer', minimum: 1024, maximum: 16777216 },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
        baud: { type: 'integer', minimum: 9600, maximum: 3000000, default: 460800 },
        idleS: { type: 'number', minimum: 0, maximum: 3600, default: 2 },
        stallS: { type: 'number', exclusiveMinimum: 0, maximum: 600, default: 20 },
      },
    },
    outcomes: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        signalInterval: duration('1h'),
        sampleInterval: duration('5m'),
        maxSamplesPerKey: { type: 'integer', minimum: 10, maximum: 1000000, default: 2000 },
        retentionDays: { type: 'number', exclusiveMinimum: 0, default: 400 },
        delivery: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            ackTimeout: duration('1.5s'),
            attempts: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
          },
        },
      },
    },
    scripts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        timeout: duration('50ms'),
        memoryMb: { type: 'number', minimum: 1, maximum: 256, default: 8 },
        maxOutputKb: { type: 'number', minimum: 1, maximum: 4096, default: 64 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: LOG_LEVELS, default: 'info' },
        // JSON-lines file read by `edge-agent logs`; default <dataDir>/agent.log unless journald takes the output
        file: { anyOf: [{ type: 'string', minLength: 1 }, { const: false }] },
        maxFileBytes: { type: 'integer', minimum: 65536, default: 5242880 },
      },
    },
  },
} as const;

/** Hints appended to "required"/"pattern" errors, keyed by the last path segment. */
export const HINTS: Record<string, string> = {
  port: 'e.g. /dev/serial/by-id/usb-Silicon_Labs_CP2102…',
  address: 'a BLE MAC such as 24:6F:28:AA:BB:CC',
  uuid: 'a GATT UUID: 2a6e, 0x2A6E or 5965b801-23f6-453f-83c5-616337f253da',
  service: 'a GATT UUID: 181a or a 128-bit UUID',
  key: 'a telemetry key: letters, digits and "_", not starting with a digit',
  kind: 'a channel kind: letters, digits and "_", e.g. temperature',
  model: `one of ${SIM_KINDS.join(', ')}`,
  id: 'letters, digits, ".", "_" or "-", at most 64',
  profile: 'letters, digits, ".", "_" or "-", at most 64',
  url: 'e.g. mqtt://127.0.0.1:1883 or mqtts://broker.example:8883',
  listen: `host:port, e.g. ${DEFAULT_API_LISTEN}`,
  lanListen: 'host:port for phones on the home network, e.g. 0.0.0.0:8788',
  baseTopic: 'an MQTT topic without wildcards, e.g. edge',
};
