import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseConfig, type BleDeviceConfig } from '../../agent/config';
import { bleDeviceSpec } from '../../agent/drivers';
import { ScriptHost, loadConfiguredScripts } from '../../agent/sandbox';
import { CharacteristicDecoder } from '../../drivers/ble';
import { tempDir } from '../support/temp-dir';

const parse = (devices: string, dir = '/tmp') => parseConfig(`gateway: { id: gw }\ndevices:\n${devices}`, { sourceName: 'c.yaml', baseDir: dir }).config;
const issues = (devices: string): string[] => {
  try {
    parse(devices);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
};

describe('BLE device config', () => {
  it('keeps the contract form {id, transport: ble, address, profile} and normalises a sensor mapping', () => {
    const c = parse(`
  - { id: door-1, transport: ble, address: "24:6f:28:aa:bb:cc", profile: home-a }
  - id: th-1
    transport: ble
    address: "A4:C1:38:00:11:22"
    deviceType: lywsd03
    characteristics:
      - { uuid: 2A6E, category: environment }
      - { uuid: "0x2a19", mode: read, poll: 5m, category: usage }
      - { uuid: "ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6", format: uint16le, scale: 0.5, key: lux, category: environment }
      - { uuid: "ebe0ccc2-7a0a-4b0c-8a1a-6ff2997da3a6", keys: [co2, voc], category: environment, decoder: { script: "return { telemetry: { co2: payload[0], voc: payload[1] } };" } }
`);
    expect(c.devices[0]).toEqual({ id: 'door-1', transport: 'ble', address: '24:6F:28:AA:BB:CC', profile: 'home-a' });
    const th = c.devices[1] as BleDeviceConfig;
    expect(th.deviceType).toBe('lywsd03');
    expect(th.characteristics!.map((x) => [x.uuid, x.mode, x.pollMs, x.decoder.kind, x.channels.map((ch) => ch.key).join('+'), x.category])).toEqual([
      ['00002a6e-0000-1000-8000-00805f9b34fb', 'notify', 0, 'standard', 'temperature', 'environment'],
      ['00002a19-0000-1000-8000-00805f9b34fb', 'read', 300_000, 'standard', 'battery', 'usage'],
      ['ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6', 'notify', 0, 'numeric', 'lux', 'environment'],
      ['ebe0ccc2-7a0a-4b0c-8a1a-6ff2997da3a6', 'notify', 0, 'script', 'co2+voc', 'environment'],
    ]);
    // The driver's view: channels numbered in config order, each with its category (the synthesised hello).
    const spec = bleDeviceSpec(th);
    expect(spec.sensor!.characteristics.flatMap((x) => x.channels.map((ch) => `${ch.n}:${ch.key}:${ch.category}`))).toEqual([
      '1:temperature:environment',
      '2:battery:usage',
      '3:lux:environment',
      '4:co2:environment',
      '5:voc:environment',
    ]);
    expect(spec.sensor!.characteristics[3].decoder).toEqual({ kind: 'script', scriptId: 'ble/th-1/characteristics[3]' });
  });

  it('reports path-precise errors for bad mappings', () => {
    const got = issues(`
  - id: th-1
    transport: ble
    address: "A4:C1:38:00:11:22"
    characteristics:
      - { uuid: 2a6e, category: environment, poll: 10s }
      - { uuid: "ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6", category: environment }
      - { uuid: "ebe0ccc2-7a0a-4b0c-8a1a-6ff2997da3a6", category: environment, decoder: { script: "return {}" } }
      - { uuid: 2A6E, mode: read, poll: soon, category: environment }
      - { uuid: 2a6f, category: environment, scale: 2 }
  - { id: s-1, transport: serial, port: /dev/ttyUSB0, characteristics: [{ uuid: 2a6e, category: environment }] }
`);
    expect(got).toEqual(
      expect.arrayContaining([
        'devices[0].characteristics[0].poll: a poll period needs mode: read (notify characteristics push their values)',
        expect.stringMatching(/^devices\[0\]\.characteristics\[1\]\.format: required for characteristic "ebe0ccc1-.*": one of int8, uint8, int16le/),
        'devices[0].characteristics[2].keys: required with a decoder script: the telemetry keys it returns, e.g. [temperature, humidity]',
        'devices[0].characteristics[3].uuid: characteristic "2A6E" is mapped twice (also characteristics[0])',
        'devices[0].characteristics[3].poll: invalid poll period "soon" — use e.g. 30s or 5m (at least 100ms)',
        expect.stringMatching(/^devices\[0\]\.characteristics\[4\]\.scale: characteristic "2a6f" has a fixed resolution/),
        'devices[1].characteristics: only BLE devices (transport: ble) have characteristics',
      ]),
    );
    expect(issues(`
  - { id: th-1, transport: ble, address: "A4:C1:38:00:11:22", characteristics: [{ uuid: "2a6x", category: weather, format: int24 }] }
`)).toEqual(
      expect.arrayContaining([
        'devices[0].characteristics[0].uuid: invalid value "2a6x" (a GATT UUID: 2a6e, 0x2A6E or 5965b801-23f6-453f-83c5-616337f253da)',
        expect.stringMatching(/^devices\[0\]\.characteristics\[0\]\.category: must be one of environment, presence/),
        expect.stringMatching(/^devices\[0\]\.characteristics\[0\]\.format: must be one of int8, uint8/),
      ]),
    );
    expect(issues(`  - { id: th-1, transport: ble, address: "A4:C1:38:00:11:22", characteristic: [] }`)).toEqual([
      'devices[0].characteristic: unknown key (did you mean "characteristics"?)',
    ]);
  });

  it('config validate compiles BLE decoder scripts and reports errors with the config path and line', async () => {
    const t = tempDir();
    try {
      fs.writeFileSync(path.join(t.dir, 'decoder.js'), 'function Decoder(payload, metadata) {\n  return { telemetry: { co2: payload[0] } ;\n}\n');
      const config = parse(
        `
  - id: th-1
    transport: ble
    address: "A4:C1:38:00:11:22"
    characteristics:
      - { uuid: "ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6", keys: [co2], category: environment, decoder: { scriptFile: decoder.js } }
      - { uuid: "ebe0ccc2-7a0a-4b0c-8a1a-6ff2997da3a6", keys: [voc], category: environment, decoder: { script: "return { telemetry: { voc: payload[0] } };" } }
`,
        t.dir,
      );
      const host = new ScriptHost();
      const found = await loadConfiguredScripts(host, config);
      expect(found).toHaveLength(1);
      expect(found[0].path).toBe('devices[0].characteristics[0].decoder.scriptFile');
      expect(found[0].message).toMatch(new RegExp(`^compile error at ${path.join(t.dir, 'decoder.js').replace(/[.]/g, '\\.')}:2:\\d+: SyntaxError`));
      expect(host.status().map((s) => [s.id, s.kind, s.state])).toEqual([
        ['ble/th-1/characteristics[0]', 'decoder', 'compile-error'],
        ['ble/th-1/characteristics[1]', 'decoder', 'ok'],
      ]);
      host.stop();
    } finally {
      t.cleanup();
    }
  });
});

describe('CharacteristicDecoder', () => {
  const dec = (spec: ConstructorParameters<typeof CharacteristicDecoder>[0], bytes: number[]) => new CharacteristicDecoder(spec, null).decode(Uint8Array.from(bytes), {});
  const num = (format: Parameters<typeof dec>[0] extends infer S ? (S extends { kind: 'numeric'; format: infer F } ? F : never) : never, bytes: number[], scale = 1, offset = 0) =>
    dec({ kind: 'numeric', format, scale, offset, key: 'v' }, bytes);

  it('decodes every built-in format little-endian, with scale and offset', () => {
    expect(num('int8', [0xff])).toEqual({ ok: true, value: { values: { v: -1 }, events: [] } });
    expect(num('uint8', [0xff])).toMatchObject({ value: { values: { v: 255 } } });
    expect(num('int16le', [0x18, 0xfc])).toMatchObject({ value: { values: { v: -1000 } } });
    expect(num('uint16le', [0x18, 0xfc])).toMatchObject({ value: { values: { v: 64536 } } });
    expect(num('int32le', [0x00, 0x00, 0x00, 0x80])).toMatchObject({ value: { values: { v: -2147483648 } } });
    expect(num('uint32le', [0x00, 0x00, 0x00, 0x80])).toMatchObject({ value: { values: { v: 2147483648 } } });
    expect(num('float32le', [0x00, 0x00, 0xac, 0x41])).toMatchObject({ value: { values: { v: 21.5 } } });
    expect(num('int16le', [0x66, 0x08], 0.01, -1)).toMatchObject({ value: { values: { v: 20.5 } } });
    expect(num('uint16le', [1])).toEqual({ ok: false, error: 'uint16le needs 2 bytes, got 1' });
    expect(num('float32le', [0x00, 0x00, 0xc0, 0x7f])).toEqual({ ok: false, error: 'float32le value is not a finite number' });
  });

  it('decodes the standard characteristics by their SIG definition and rejects their "unknown" markers', () => {
    const std = (uuid: string, bytes: number[]) => dec({ kind: 'standard', uuid: `0000${uuid}-0000-1000-8000-00805f9b34fb`, key: 'v' }, bytes);
    expect(std('2a6e', [0x66, 0x08])).toMatchObject({ value: { values: { v: 21.5 } } });
    expect(std('2a6e', [0x00, 0x80])).toEqual({ ok: false, error: 'sensor reports "value not known"' });
    expect(std('2a6f', [0xad, 0x11])).toMatchObject({ value: { values: { v: 45.25 } } });
    expect(std('2a6f', [0x10, 0x27 + 1])).toEqual({ ok: false, error: 'value 102.56 out of range' });
    expect(std('2a6d', [0x02, 0x76, 0x0f, 0x00])).toMatchObject({ value: { values: { v: 101325 } } }); // 1013250 × 0.1 Pa
    expect(std('2a19', [87])).toMatchObject({ value: { values: { v: 87 } } });
    expect(std('2a19', [87, 1])).toEqual({ ok: false, error: 'characteristic 2a19 carries 1 byte, got 2' });
  });
});
