import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConfig, parseDuration } from '../../agent/config';
import { tempDir } from '../support/temp-dir';

const REPO = path.resolve(__dirname, '..', '..');
const BASE = `gateway: { id: gw-1 }
devices:
  - { id: scale-1, transport: sim, model: kitchen-scale, profile: home-a }
campaigns:
  - { id: c1, qualify: { event: dispense }, value: 72, threshold: 30, cooldown: 7d, channels: [push] }
`;

function issues(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, { sourceName: 'config.yaml', baseDir: '/etc/edge-agent', env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('bad configs: one path-precise line each', () => {
  it.each([
    ['serial device without port', `gateway: { id: g }\ndevices:\n  - { id: a, transport: sim, model: presence }\n  - { id: b, transport: sim, model: presence }\n  - { id: c, transport: serial }\n`, /^devices\[2\]\.port: required for transport "serial" \(e\.g\. \/dev\/serial\/by-id/],
    ['ble device without address', `gateway: { id: g }\ndevices: [{ id: a, transport: ble }]\n`, /^devices\[0\]\.address: required for transport "ble"/],
    ['bad BLE MAC', `gateway: { id: g }\ndevices: [{ id: a, transport: ble, address: "24:6F:28:AA:BB" }]\n`, /^devices\[0\]\.address: invalid value "24:6F:28:AA:BB" \(a BLE MAC/],
    ['sim device without model', `gateway: { id: g }\ndevices: [{ id: a, transport: sim }]\n`, /^devices\[0\]\.model: required for transport "sim"/],
    ['unknown transport', `gateway: { id: g }\ndevices: [{ id: a, transport: zigbee }]\n`, /^devices\[0\]\.transport: must be one of serial, ble, sim, got "zigbee"/],
    ['typo in a key, with suggestion', `gateway: { idd: g }\n`, /^gateway\.idd: unknown key \(did you mean "id"\?\)/],
    ['unknown top-level key', `gateway: { id: g }\nfoo: 1\n`, /^foo: unknown key \(allowed keys: gateway, api/],
    ['missing gateway id', `gateway: { dataDir: /tmp }\n`, /^gateway\.id: required/],
    ['missing gateway', `devices: []\n`, /^gateway: required/],
    ['bad gateway id', `gateway: { id: "my gateway" }\n`, /^gateway\.id: invalid value "my gateway" \(letters, digits/],
    ['negative windowDays', `gateway: { id: g }\nengagement: { windowDays: -3 }\n`, /^engagement\.windowDays: must be > 0, got -3$/],
    ['zero recencyScale', `gateway: { id: g }\nengagement: { recencyScale: 0 }\n`, /^engagement\.recencyScale: must be > 0, got 0$/],
    ['string where a number is needed', `gateway: { id: g }\nengagement: { windowDays: thirty }\n`, /^engagement\.windowDays: must be a number, got "thirty"$/],
    ['bad duration', BASE.replace('cooldown: 7d', 'cooldown: 7 days'), /^campaigns\[0\]\.cooldown: invalid duration "7 days" — use e\.g\. 7d, 12h, 30m$/],
    ['V out of range', BASE.replace('value: 72', 'value: 140'), /^campaigns\[0\]\.value: must be 0–100, got 140$/],
    ['V of a wrong shape', BASE.replace('value: 72', 'value: high'), /^campaigns\[0\]\.value: must be a number 0–100, \{ fromUpstream: true \}/],
    ['upstream default out of range', BASE.replace('value: 72', 'value: { fromUpstream: true, default: -5 }'), /^campaigns\[0\]\.value\.default: must be 0–100, got -5$/],
    ['empty channels', BASE.replace('channels: [push]', 'channels: []'), /^campaigns\[0\]\.channels: needs at least 1 entry$/],
    ['unknown channel', BASE.replace('channels: [push]', 'channels: [push, pigeon]'), /^campaigns\[0\]\.channels\[1\]: must be one of push, sms, email, device, got "pigeon"$/],
    ['missing threshold', BASE.replace('threshold: 30, ', ''), /^campaigns\[0\]\.threshold: required$/],
    ['duplicate device id', BASE.replace('devices:\n', 'devices:\n  - { id: scale-1, transport: sim, model: presence }\n'), /^devices\[1\]\.id: duplicate id "scale-1" \(also devices\[0\]\)$/],
    ['duplicate campaign id', BASE + `  - { id: c1, qualify: { event: x }, value: 1, threshold: 1, channels: [sms] }\n`, /^campaigns\[1\]\.id: duplicate id "c1" \(also campaigns\[0\]\)$/],
    ['unknown device in qualify', BASE.replace('qualify: { event: dispense }', 'qualify: { event: dispense, devices: [nope] }'), /^campaigns\[0\]\.qualify\.devices\[0\]: unknown device "nope"/],
    ['unknown category in a grant', BASE + `consent: { grants: [{ device: scale-1, category: mood }] }\n`, /^consent\.grants\[0\]\.category: must be one of environment, presence, usage, location, health, biometric, \*, got "mood"$/],
    ['grant for an unknown device', BASE + `consent: { grants: [{ device: ghost, category: usage }] }\n`, /^consent\.grants\[0\]\.device: unknown device "ghost"$/],
    ['grant for an unknown campaign', BASE + `consent: { grants: [{ profile: home-a, campaign: ghost }] }\n`, /^consent\.grants\[0\]\.campaign: unknown campaign "ghost"$/],
    ['grant of a mixed shape', BASE + `consent: { grants: [{ device: scale-1, channel: push }] }\n`, /^consent\.grants\[0\]: must be \{ device, category \}/],
    ['bad upstream URL', `gateway: { id: g }\nupstream: { url: "http://x" }\n`, /^upstream\.url: invalid value "http:\/\/x" \(e\.g\. mqtt:/],
    ['missing secret env var', `gateway: { id: g }\nupstream: { url: "mqtt://x:1883", password: { env: NOPE_SECRET } }\n`, /^upstream\.password: environment variable NOPE_SECRET is not set$/],
    ['unreadable secret file', `gateway: { id: g }\nupstream: { url: "mqtt://x:1883", password: { file: /nonexistent/secret } }\n`, /^upstream\.password: cannot read secret file \/nonexistent\/secret \(ENOENT\)$/],
    ['bad api.listen', `gateway: { id: g }\napi: { listen: "8787" }\n`, /^api\.listen: invalid value "8787" \(host:port/],
    ['bad log level', `gateway: { id: g }\nlog: { level: loud }\n`, /^log\.level: must be one of trace, debug, info, warn, error, got "loud"$/],
    ['YAML syntax error with line:col', `gateway: { id: g\ndevices: [\n`, /^config\.yaml:\d+:\d+: /],
    ['not a mapping', `- a\n- b\n`, /^config\.yaml: the config must be a YAML mapping/],
    ['fractional baud', `gateway: { id: g }\ndevices: [{ id: a, transport: serial, port: /dev/x, baud: 9600.5 }]\n`, /^devices\[0\]\.baud: must be a whole number, got 9600\.5$/],
  ])('%s', (_name, text, re) => {
    const got = issues(text);
    expect(got.length).toBeGreaterThan(0);
    expect(got.some((l) => re.test(l))).toBe(true);
    if (!got.some((l) => re.test(l))) throw new Error(got.join('\n'));
  });

  it('reports every problem, not just the first', () => {
    const got = issues(`gateway: { id: g }\nengagement: { windowDays: -1, recencyScale: 0 }\nlog: { level: x }\n`);
    expect(got).toHaveLength(3);
  });

  it('a bad environment override is reported at its config path', () => {
    expect(issues(BASE, { EDGE_AGENT_ENGAGEMENT_WINDOW_DAYS: '-2' })).toEqual(['engagement.windowDays: must be > 0, got -2']);
  });
});

describe('good configs', () => {
  it('fills defaults and normalises', () => {
    const { config } = parseConfig(BASE, { sourceName: 'c.yaml', baseDir: '/etc/edge-agent', env: {} });
    expect(config.gateway).toEqual({ id: 'gw-1', dataDir: '/etc/edge-agent/data' });
    expect(config.api.listen).toBe('127.0.0.1:8787');
    expect(config.engagement).toEqual({ windowDays: 30, recencyFloorDays: 1, recencyScale: 100, signalIntervalS: 60 });
    expect(config.storage.groupCommitRows).toBe(500);
    expect(config.campaigns[0]).toEqual({
      id: 'c1',
      qualify: { event: 'dispense' },
      value: { kind: 'constant', v: 72 },
      threshold: 30,
      cooldownMs: 7 * 86_400_000,
      conversion: { events: ['reorder'], attributionWindowMs: 7 * 86_400_000 },
      dwell: { withinMs: 30 * 60_000, capMs: 4 * 3_600_000 },
      channels: ['push'],
    });
    expect(config.consent).toEqual({ policyVersion: 1, requirePolicy: {}, deviceButtonMayGrant: [], grants: [] });
    expect(config.upstream).toBeUndefined();
  });

  it.each([
    ['no upstream', '', 16384],
    ['the generic profile', 'upstream: { url: "mqtt://b:1883" }\n', 16384],
    ['ThingsBoard (its max_payload_size, 65536 by default)', 'upstream: { url: "mqtt://b:1883", profile: thingsboard }\n', 65536],
    ['ThingsBoard with an explicit size', 'upstream: { url: "mqtt://b:1883", profile: thingsboard }\nfirmware: { chunkBytes: 32768 }\n', 32768],
    ['generic with an explicit size', 'upstream: { url: "mqtt://b:1883" }\nfirmware: { chunkBytes: 65536 }\n', 65536],
  ])('firmware.chunkBytes defaults per upstream profile: %s', (_name, extra, expected) => {
    const { config } = parseConfig(BASE + extra, { sourceName: 'c.yaml', baseDir: '/etc/edge-agent', env: {} });
    expect(config.firmware.chunkBytes).toBe(expected);
  });

  it('applies EDGE_AGENT_* overrides with YAML scalar typing, and warns about unknown ones', () => {
    const { config, warnings } = parseConfig(BASE, {
      sourceName: 'c.yaml',
      baseDir: '/srv',
      env: {
        EDGE_AGENT_GATEWAY_ID: 'gw-override',
        EDGE_AGENT_GATEWAY_DATA_DIR: '/var/lib/edge-agent',
        EDGE_AGENT_ENGAGEMENT_RECENCY_SCALE: '10',
        EDGE_AGENT_API_LISTEN: '0.0.0.0:9000',
        EDGE_AGENT_UPSTREAM_URL: 'mqtts://broker:8883',
        EDGE_AGENT_NOT_A_KEY: 'x',
        EDGE_AGENT_CONFIG: '/ignored.yaml',
      },
    });
    expect(config.gateway).toEqual({ id: 'gw-override', dataDir: '/var/lib/edge-agent' });
    expect(config.engagement.recencyScale).toBe(10);
    expect(config.api.listen).toBe('0.0.0.0:9000');
    expect(config.upstream).toMatchObject({ url: 'mqtts://broker:8883', profile: 'generic', baseTopic: 'edge' });
    expect(warnings).toEqual([
      'environment variable EDGE_AGENT_NOT_A_KEY matches no config key and was ignored',
      expect.stringMatching(/^api\.listen 0\.0\.0\.0:9000 is not a loopback address/),
    ]);
  });

  it('resolves secrets by reference and relative paths against the config directory', () => {
    const t = tempDir();
    try {
      fs.writeFileSync(path.join(t.dir, 'pw'), 's3cret\n');
      const file = path.join(t.dir, 'config.yaml');
      fs.writeFileSync(
        file,
        `gateway: { id: g, dataDir: state }\nupstream: { url: "mqtt://b:1883", username: { env: MQ_USER }, password: { file: pw } }\n`,
      );
      const { config } = loadConfig(file, { MQ_USER: 'gw' });
      expect(config.gateway.dataDir).toBe(path.join(t.dir, 'state'));
      expect(config.upstream).toMatchObject({ username: 'gw', password: 's3cret' });
    } finally {
      t.cleanup();
    }
  });

  it.each(['demo.yaml', 'example.yaml', 'thingsboard.yaml'])('shipped config/%s is valid', (f) => {
    const { config } = loadConfig(path.join(REPO, 'config', f), { TB_TOKEN: 'token' });
    expect(config.gateway.id).toMatch(/\S/);
  });

  it('the demo config grants consent explicitly, naming the special category', () => {
    const { config } = loadConfig(path.join(REPO, 'config', 'demo.yaml'), {});
    expect(config.devices).toHaveLength(4);
    expect(new Set(config.devices.map((d) => d.profile)).size).toBe(2);
    expect(config.campaigns).toHaveLength(2);
    expect(config.consent.grants).toContainEqual({ device: 'wearable-1', category: 'health' });
  });

  it.each([
    ['7d', 7 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['30m', 1_800_000],
    ['45s', 45_000],
    ['250ms', 250],
    [90, 90_000],
    ['1.5h', 5_400_000],
    ['7 days', null],
    ['-1d', null],
    [true, null],
  ])('duration %p → %p', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });
});
