import { parseConfig } from '../../agent/config';
import { SensorPeripheral, hasDbusDaemon, type BluezSimulator } from '../support/bluez-sim';
import { waitUntil } from '../support/wait-until';
import { count, newTempDir, startAgent, startBus } from './ble-harness';

const ADDR = 'A4:C1:38:0B:5E:01';
const VENDOR = 'ebe0ccc1-7a0a-4b0c-8a1a-6ff2997da3a6';
const SCRIPTED = 'ebe0ccc2-7a0a-4b0c-8a1a-6ff2997da3a6';
const BROKEN = 'ebe0ccc3-7a0a-4b0c-8a1a-6ff2997da3a6';

const yaml = (dataDir: string, grants: string): string => `
gateway: { id: gw-ble, dataDir: ${dataDir} }
devices:
  - id: th-1
    transport: ble
    address: "${ADDR.toLowerCase()}"
    profile: home-a
    deviceType: lywsd03
    characteristics:
      - { uuid: "2A6E", category: environment }                       # Environmental Sensing temperature, notify
      - { uuid: "0x2a6f", mode: read, poll: 150ms, category: environment }
      - { uuid: 2a19, mode: read, poll: 150ms, category: usage }       # battery level: not granted
      - { uuid: "${VENDOR}", format: int16le, scale: 0.1, offset: -40, key: soil, kind: moisture, category: environment }
      - uuid: "${SCRIPTED}"
        category: environment
        keys: [co2, voc]
        decoder:
          script: |
            function Decoder(payload, metadata) {
              if (payload.length !== 4) throw new Error('expected 4 bytes, got ' + payload.length);
              var out = { telemetry: { co2: payload[1] | (payload[2] << 8), voc: payload[3] } };
              if (payload[0] === 0xff) out.event = 'button';
              return out;
            }
      - { uuid: "${BROKEN}", mode: read, poll: 150ms, format: uint8, key: light, category: environment }
consent:
  grants: ${grants}
`;

const i16 = (v: number): Uint8Array => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setInt16(0, v, true);
  return b;
};
const u16 = (v: number): Uint8Array => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, true);
  return b;
};

(hasDbusDaemon ? describe : describe.skip)('BLE third-party sensors mapped by config', () => {
  let bus: Awaited<ReturnType<typeof startBus>>;
  let sim: BluezSimulator;
  let t: ReturnType<typeof newTempDir>;
  let run: Awaited<ReturnType<typeof startAgent>> | null = null;
  let sensor: SensorPeripheral;

  beforeAll(async () => {
    bus = await startBus();
    sim = bus.sim;
  });
  afterAll(async () => {
    await bus.stop();
  });
  beforeEach(() => {
    t = newTempDir();
    sensor = new SensorPeripheral(ADDR, 'LYWSD03MMC', [
      { uuid: '0000181a-0000-1000-8000-00805f9b34fb', characteristics: [{ uuid: '00002a6e-0000-1000-8000-00805f9b34fb', notify: true }, { uuid: '00002a6f-0000-1000-8000-00805f9b34fb', value: u16(4525) }] },
      { uuid: '0000180f-0000-1000-8000-00805f9b34fb', characteristics: [{ uuid: '00002a19-0000-1000-8000-00805f9b34fb', value: Uint8Array.of(87) }] },
      {
        uuid: 'ebe0ccb0-7a0a-4b0c-8a1a-6ff2997da3a6',
        characteristics: [
          { uuid: VENDOR, notify: true },
          { uuid: SCRIPTED, notify: true },
          { uuid: BROKEN, readError: 'Operation failed with ATT error: 0x0e (Unlikely Error)' },
        ],
      },
    ]);
    sim.addPeripheral(sensor, { cached: true });
  });
  afterEach(async () => {
    await run?.cleanup();
    run = null;
    sim.removePeripheral(ADDR);
    t.cleanup();
  });

  const start = async (grants: string) => {
    const { config } = parseConfig(yaml(t.dir, grants), { sourceName: 'ble.yaml', baseDir: t.dir });
    run = await startAgent(config);
    // `connected` flips at the synthesised hello; the link detail says when the subscriptions are in place.
    await waitUntil('link up', () => /^connected: /.test(run!.agent.status().devices.find((d) => d.id === 'th-1')!.link ?? ''), 10_000);
    return run;
  };
  const rowsOf = (ch: number): Array<{ v: number }> => run!.agent.database.prepare('SELECT v FROM readings WHERE device = ? AND ch = ? ORDER BY id').all('th-1', ch) as Array<{ v: number }>;
  const status = () => run!.agent.status().devices.find((d) => d.id === 'th-1')!;

  it('built-in formats, Environmental Sensing characteristics and a sandboxed decoder all enter the pipeline', async () => {
    await start('[{ device: th-1, category: environment }]');
    expect(status()).toMatchObject({ type: 'lywsd03', fw: 'third-party' });
    expect(status().link).toMatch(/6 characteristics/);
    await waitUntil('humidity polled', () => rowsOf(2).length >= 1);
    expect(rowsOf(2)[0].v).toBe(45.25); // 0x2A6F: uint16, 0.01 %

    expect(sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', i16(2150))).toBe(true);
    sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', i16(-1234));
    await waitUntil('temperatures', () => rowsOf(1).length === 2);
    expect(rowsOf(1).map((r) => r.v)).toEqual([21.5, -12.34]); // 0x2A6E: sint16, 0.01 °C

    sensor.set(VENDOR, i16(250));
    await waitUntil('vendor value', () => rowsOf(4).length === 1);
    expect(rowsOf(4)[0].v).toBe(-15); // 250 × 0.1 − 40

    sensor.set(SCRIPTED, Uint8Array.of(0x01, 0x90, 0x01, 12));
    sensor.set(SCRIPTED, Uint8Array.of(0xff, 0x20, 0x03, 30));
    await waitUntil('scripted values', () => rowsOf(6).length === 2);
    expect(rowsOf(5).map((r) => r.v)).toEqual([400, 800]);
    expect(rowsOf(6).map((r) => r.v)).toEqual([12, 30]);
    expect(count(run!.agent, "SELECT count(*) AS n FROM events WHERE device = 'th-1'")).toBe(1);

    // Battery is category usage, not granted: polled, decoded, and dropped before anything is written.
    await waitUntil('battery dropped', () => run!.agent.status().ingest.droppedNoConsent >= 2);
    expect(rowsOf(3)).toEqual([]);
    expect(count(run!.agent, "SELECT count(*) AS n FROM readings WHERE category = 'usage'")).toBe(0);
    expect(sensor.reads.get('00002a19-0000-1000-8000-00805f9b34fb')).toBeGreaterThanOrEqual(2);
  });

  it('bad values, a failing decoder script and a characteristic that errors are counted; the link stays up', async () => {
    await start('[{ device: th-1, category: environment }]');
    await waitUntil('broken characteristic counted', () => status().framesBad >= 2);
    expect(sensor.reads.get(BROKEN)).toBeGreaterThanOrEqual(2);
    const bad = status().framesBad;
    sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', Uint8Array.of(1, 2, 3)); // wrong length
    sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', i16(-32768)); // "value not known"
    sensor.set(SCRIPTED, Uint8Array.of(1)); // the script throws
    sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', i16(1999));
    await waitUntil('good temperature after the bad ones', () => rowsOf(1).length === 1);
    expect(rowsOf(1)[0].v).toBe(19.99);
    await waitUntil('bad values counted', () => status().framesBad >= bad + 3);
    expect(status().connected).toBe(true);
    expect(rowsOf(1)).toHaveLength(1);
    const script = run!.agent.status().scripts.find((s) => s.id === 'ble/th-1/characteristics[4]');
    expect(script).toMatchObject({ kind: 'decoder', failures: 1 });
    expect(script!.lastError!.message).toMatch(/expected 4 bytes, got 1/);
  });

  it('consent is default deny for third-party categories, and a grant takes effect on the next value', async () => {
    await start('[]');
    const HUMIDITY = '00002a6f-0000-1000-8000-00805f9b34fb';
    // Messages from BlueZ arrive in order: once a read the simulator served after the notification has come
    // back, the notification has been through the pipeline too.
    const processedAfter = async (what: string): Promise<void> => {
      const r0 = sensor.reads.get(HUMIDITY) ?? 0;
      await waitUntil(what, () => (sensor.reads.get(HUMIDITY) ?? 0) >= r0 + 2);
    };
    expect(sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', i16(2000))).toBe(true);
    await processedAfter('temperature and humidity through the pipeline');
    expect(count(run!.agent, "SELECT count(*) AS n FROM readings WHERE device = 'th-1'")).toBe(0);
    expect(run!.agent.status().ingest.droppedNoConsent).toBeGreaterThanOrEqual(3);
    run!.agent.changeConsent({ scope: 'device', subject: 'th-1', target: 'environment', granted: true, source: 'cli', erase: false });
    sensor.set('00002a6e-0000-1000-8000-00805f9b34fb', i16(2100));
    await waitUntil('stored after the grant', () => rowsOf(1).length === 1);
    await processedAfter('later values');
    expect(rowsOf(1).map((r) => r.v)).toEqual([21]);
    expect(rowsOf(2).length).toBeGreaterThan(0);
    expect(count(run!.agent, "SELECT count(*) AS n FROM readings WHERE category = 'usage'")).toBe(0);
  });

});
