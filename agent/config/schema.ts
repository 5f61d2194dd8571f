/**
 * JSON Schema of the config file (DESIGN §9). `additionalProperties: false` everywhere so a typo is an error
 * with a suggestion, not a silently ignored key. Shapes with alternatives (campaign `value`, `cooldown`, secret
 * references) are checked by the loader, which gives clearer messages than a oneOf dump.
 */
const ID = '^[A-Za-z0-9._-]{1,64}$';
const CATEGORY = { enum: ['environment', 'presence', 'usage', 'location', 'health', 'biometric', '*'] };
const CHANNEL = { enum: ['push', 'sms', 'email', 'device'] };
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
      properties: { listen: { type: 'string', pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$', default: '127.0.0.1:8787' } },
    },
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^(mqtt|mqtts|ws|wss)://[^\\s]+$' },
        profile: { enum: ['generic', 'thingsboard'], default: 'generic' },
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
          baud: { type: 'integer', minimum: 300, maximum: 4000000 },
          address: { type: 'string', pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' },
          model: { enum: ['kitchen-scale', 'fridge-door', 'presence', 'wearable'] },
          ratePerMin: { type: 'number', exclusiveMinimum: 0 },
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
          cooldown: {},
          channels: { type: 'array', items: CHANNEL, minItems: 1, uniqueItems: true },
        },
      },
    },
    engagement: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        windowDays: { type: 'number', exclusiveMinimum: 0, default: 30 },
        recencyFloorDays: { type: 'number', exclusiveMinimum: 0, default: 1 },
        recencyScale: { type: 'number', exclusiveMinimum: 0, default: 100 },
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
        groupCommitMs: { type: 'number', minimum: 0, maximum: 1000, default: 5 },
        groupCommitRows: { type: 'integer', minimum: 1, maximum: 100000, default: 500 },
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
          propertyNames: { enum: ['environment', 'presence', 'usage', 'location', 'health', 'biometric'] },
          additionalProperties: { type: 'integer', minimum: 1 },
        },
        deviceButtonMayGrant: {
          type: 'array',
          default: [],
          uniqueItems: true,
          items: { enum: ['environment', 'presence', 'usage', 'location', '*'] },
        },
        grants: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              device: { type: 'string' },
              category: CATEGORY,
              profile: { type: 'string', pattern: ID },
              campaign: { type: 'string' },
              channel: CHANNEL,
            },
          },
        },
      },
    },
    scripts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        timeout: { default: '50ms' },
        memoryMb: { type: 'number', minimum: 1, maximum: 256, default: 8 },
        maxOutputKb: { type: 'number', minimum: 1, maximum: 4096, default: 64 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['trace', 'debug', 'info', 'warn', 'error'], default: 'info' } },
    },
  },
} as const;

/** Hints appended to "required"/"pattern" errors, keyed by the last path segment. */
export const HINTS: Record<string, string> = {
  port: 'e.g. /dev/serial/by-id/usb-Silicon_Labs_CP2102…',
  address: 'a BLE MAC such as 24:6F:28:AA:BB:CC',
  model: 'one of kitchen-scale, fridge-door, presence, wearable',
  id: 'letters, digits, ".", "_" or "-", at most 64',
  profile: 'letters, digits, ".", "_" or "-", at most 64',
  url: 'e.g. mqtt://127.0.0.1:1883 or mqtts://broker.example:8883',
  listen: 'host:port, e.g. 127.0.0.1:8787',
  baseTopic: 'an MQTT topic without wildcards, e.g. edge',
};
