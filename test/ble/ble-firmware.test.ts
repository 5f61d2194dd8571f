import { encodeFrame } from '../../firmware-bridge/protocol';
import { Esp32Peripheral, hasDbusDaemon, type BluezSimulator } from '../support/bluez-sim';
import { waitUntil } from '../support/wait-until';
import { bleConfig, count, newTempDir, startAgent, startBus } from './ble-harness';

const ADDR = '24:6F:28:AA:BB:01';

(hasDbusDaemon ? describe : describe.skip)('BLE driver (node-ble) against the BlueZ simulator: our firmware', () => {
  let bus: Awaited<ReturnType<typeof startBus>>;
  let sim: BluezSimulator;
  let t: ReturnType<typeof newTempDir>;
  let run: Awaited<ReturnType<typeof startAgent>> | null = null;
  const peripherals: Esp32Peripheral[] = [];

  beforeAll(async () => {
    bus = await startBus();
    sim = bus.sim;
  });
  afterAll(async () => {
    await bus.stop();
  });
  beforeEach(() => {
    t = newTempDir();
  });
  afterEach(async () => {
    for (const p of peripherals.splice(0)) {
      p.stop();
      sim.removePeripheral(p.address);
    }
    await run?.cleanup();
    run = null;
    t.cleanup();
  });

  const device = (opts: ConstructorParameters<typeof Esp32Peripheral>[0], cached = true): Esp32Peripheral => {
    const p = new Esp32Peripheral(opts);
    peripherals.push(p);
    sim.addPeripheral(p, { cached });
    return p;
  };
  const readings = (id: string): number => count(run!.agent, 'SELECT count(*) AS n FROM readings WHERE device = ?', id);
  const status = (id: string) => run!.agent.status().devices.find((d) => d.id === id)!;

  it('stores notified frames, acks them on downlink, pushes consent-state and shows the link in status', async () => {
    const p = device({ address: ADDR, id: 'door-1', rateHz: 20, limit: 30 });
    run = await startAgent(
      bleConfig(t.dir, [{ id: 'door-1', transport: 'ble', address: ADDR, profile: 'home-a' }], [{ device: 'door-1', category: 'environment' }]),
    );
    p.start();
    await waitUntil('30 readings stored', () => readings('door-1') === 30, 15_000, () => ` (have ${readings('door-1')}, link ${status('door-1').link})`);
    await waitUntil('all acked', () => p.unacked() === 0);
    expect(p.acked.size).toBe(30);
    expect(status('door-1')).toMatchObject({ connected: true, type: 'fridge-door', fw: '3.0.0-ble', framesBad: 0 });
    expect(status('door-1').link).toMatch(/connected: fridge-door fw 3.0.0-ble/);
    // Privacy at the source: the device was told what it may sample (usage was not granted).
    expect(p.received.find((f) => f.type === 'consent-state')).toMatchObject({ body: { cats: { environment: true, usage: false } } });
    expect(run.agent.status().ingest.duplicates).toBe(0);

    // Gateway → device: a command through the downlink, confirmed by the device's ack.
    const r = await run.agent.commander.send('door-1', 'identify');
    expect(r).toMatchObject({ acked: true, error: null });
    expect(p.identifyCount).toBe(1);
    expect(p.writeTypes.every((w) => w === 'request')).toBe(true);
  });

  it('a consent change while the device is out of reach gets to it with the next connection', async () => {
    const p = device({ address: ADDR, id: 'door-1', rateHz: 10 });
    run = await startAgent(bleConfig(t.dir, [{ id: 'door-1', transport: 'ble', address: ADDR }], [{ device: 'door-1', category: 'environment' }]));
    p.start();
    await waitUntil('readings flowing', () => readings('door-1') >= 3);
    sim.failConnects(ADDR, 3); // the device walks out of range for a moment
    sim.dropLink(ADDR);
    await waitUntil('link down', () => !status('door-1').connected);
    run.agent.changeConsent({ scope: 'device', subject: 'door-1', target: 'environment', granted: false, source: 'cli', erase: false });
    const states = () => p.received.filter((f) => f.type === 'consent-state');
    expect(states().at(-1)).toMatchObject({ body: { cats: { environment: true } } }); // it could not be told yet
    await waitUntil('reconnected and told', () => status('door-1').connected && states().at(-1)?.body.cats.environment === false, 10_000);
    // Privacy at the source: the device stops sampling environment data; nothing more is stored.
    const stored = readings('door-1');
    const produced = p.produced.filter((x) => x > 0).length;
    await waitUntil('the device skipped samples', () => p.produced.length - p.produced.filter((x) => x > 0).length >= 3);
    expect(p.produced.filter((x) => x > 0).length).toBe(produced);
    expect(readings('door-1')).toBe(stored);
  });

  it('garbage notifications are counted as bad frames, never stop the stream', async () => {
    const p = device({ address: ADDR, id: 'door-1', rateHz: 10, limit: 5 });
    run = await startAgent(bleConfig(t.dir, [{ id: 'door-1', transport: 'ble', address: ADDR }], [{ device: 'door-1', category: 'environment' }]));
    // `connected` flips with the hello, before the uplink subscription; the link detail says when it is in place.
    await waitUntil('link up', () => /^connected: /.test(status('door-1').link ?? ''));
    const good = encodeFrame({ type: 'reading', seq: 900, body: { readings: [{ ch: 1, v: 1 }] } });
    const flipped = Uint8Array.from(good);
    flipped[6] ^= 0x01;
    expect(p.notifyRaw(Uint8Array.from([1, 2, 3]))).toBe(true); // too short
    p.notifyRaw(flipped); // bad CRC
    p.notifyRaw(encodeFrame({ type: 'command', seq: 3, body: { c: 'reboot' } })); // gateway-only type from a device
    p.notifyRaw(new Uint8Array(600).fill(0x41));
    p.start();
    await waitUntil('5 readings stored', () => readings('door-1') === 5);
    expect(status('door-1').framesBad).toBe(4);
    expect(status('door-1').connected).toBe(true);
  });

  it('falls back to write-without-response when the downlink only allows that', async () => {
    const p = device({ address: ADDR, id: 'door-1', rateHz: 10, limit: 5, writeWithoutResponseOnly: true });
    run = await startAgent(bleConfig(t.dir, [{ id: 'door-1', transport: 'ble', address: ADDR }], [{ device: 'door-1', category: 'environment' }]));
    p.start();
    await waitUntil('5 readings stored and acked', () => readings('door-1') === 5 && p.unacked() === 0);
    expect(new Set(p.writeTypes)).toEqual(new Set(['command']));
  });

  it('switches to write-without-response when BlueZ refuses write requests on a downlink that lists both', async () => {
    const p = device({ address: ADDR, id: 'door-1', rateHz: 10, limit: 5, refuseWriteRequests: true });
    run = await startAgent(bleConfig(t.dir, [{ id: 'door-1', transport: 'ble', address: ADDR }], [{ device: 'door-1', category: 'environment' }]));
    p.start();
    await waitUntil('5 readings stored and acked', () => readings('door-1') === 5 && p.unacked() === 0);
    expect(new Set(p.writeTypes)).toEqual(new Set(['command']));
    expect(p.acked.size).toBe(5);
  });
});
