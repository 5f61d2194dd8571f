import { Esp32Peripheral, SensorPeripheral, hasDbusDaemon, type BluezSimulator } from '../support/bluez-sim';
import { waitUntil } from '../support/wait-until';
import { bleConfig, count, newTempDir, startAgent, startBus } from './ble-harness';
import type { GattFrameChannel } from '../../drivers/ble';

const addr = (i: number): string => `24:6F:28:AA:B0:${i.toString(16).padStart(2, '0').toUpperCase()}`;

(hasDbusDaemon ? describe : describe.skip)('BLE links: loss, removal, power cycles, bluetoothd restarts, many devices', () => {
  let bus: Awaited<ReturnType<typeof startBus>>;
  let sim: BluezSimulator;
  let t: ReturnType<typeof newTempDir>;
  let run: Awaited<ReturnType<typeof startAgent>> | null = null;
  const peripherals: Array<Esp32Peripheral | SensorPeripheral> = [];

  beforeAll(async () => {
    bus = await startBus();
    sim = bus.sim;
  });
  afterAll(async () => {
    await bus.stop();
  });
  beforeEach(async () => {
    t = newTempDir();
    if (!sim.running) await sim.start();
    sim.setPowered(true);
  });
  afterEach(async () => {
    await run?.cleanup();
    run = null;
    for (const p of peripherals.splice(0)) {
      if (p instanceof Esp32Peripheral) p.stop();
      sim.removePeripheral(p.address);
    }
    t.cleanup();
  });

  const firmware = (i: number, opts: Partial<ConstructorParameters<typeof Esp32Peripheral>[0]> = {}, cached = true): Esp32Peripheral => {
    const p = new Esp32Peripheral({ address: addr(i), id: `dev-${i}`, rateHz: 20, ...opts });
    peripherals.push(p);
    sim.addPeripheral(p, { cached });
    return p;
  };
  const configFor = (ids: number[]) =>
    bleConfig(
      t.dir,
      ids.map((i) => ({ id: `dev-${i}`, transport: 'ble' as const, address: addr(i), profile: 'home-a' })),
      ids.map((i) => ({ device: `dev-${i}`, category: 'environment' as const })),
    );
  const rows = (id: string): number => count(run!.agent, 'SELECT count(*) AS n FROM readings WHERE device = ?', id);
  const distinctRows = (id: string): number => count(run!.agent, 'SELECT count(DISTINCT device_t) AS n FROM readings WHERE device = ?', id);
  const status = (id: string) => run!.agent.status().devices.find((d) => d.id === id)!;
  const linkStats = (id: string) => run!.ble.stats().links.find((l) => l.id === id)!;
  const detail = (id: string) => (): string => ` (rows ${rows(id)}, link "${status(id).link}")`;

  it('link loss mid-stream: reconnects with backoff; nothing acked is lost, retransmissions are not stored twice', async () => {
    const p = firmware(1, { limit: 80 });
    run = await startAgent(configFor([1]));
    p.start();
    // acks follow the group commit and its fsync: rows are visible before the device has their acks
    await waitUntil('20 rows, 5 of them acked', () => rows('dev-1') >= 20 && p.acked.size >= 5, 10_000, detail('dev-1'));
    // The link drops; the acks of the last few frames were lost in the air, so the device sends them again.
    sim.dropLink(p.address);
    const lost = p.loseLastAcks(5);
    expect(lost).toHaveLength(5);
    await waitUntil('link down in status', () => !status('dev-1').connected);
    expect(status('dev-1').link).toMatch(/link lost; retry in/);
    await waitUntil('all 80 stored and acked', () => rows('dev-1') === 80 && p.unacked() === 0, 15_000, detail('dev-1'));
    expect(distinctRows('dev-1')).toBe(80);
    expect(p.acked.size).toBe(80);
    expect(linkStats('dev-1')).toMatchObject({ connected: true, linkLosses: 1, connects: 2 });
    const channel = run.ble.link('dev-1')!.session as GattFrameChannel;
    expect(channel.retransmissionsAnswered).toBeGreaterThanOrEqual(5);
  });

  it('a device that rebooted (seqs start again, same bytes) is not mistaken for one retransmitting', async () => {
    const p = firmware(9, { limit: 15 });
    run = await startAgent(configFor([9]));
    p.start();
    await waitUntil('15 stored', () => rows('dev-9') === 15 && p.unacked() === 0, 10_000, detail('dev-9'));
    p.reboot();
    sim.dropLink(p.address); // the power cycle drops the link
    p.start();
    await waitUntil('15 more stored', () => rows('dev-9') === 30 && p.unacked() === 0, 15_000, detail('dev-9'));
    expect(p.acked.size).toBe(15);
    expect((run.ble.link('dev-9')!.session as GattFrameChannel).retransmissionsAnswered).toBe(0);
  });

  it('a device removed from BlueZ (out of range) and re-added is found by discovery and reconnected', async () => {
    const p = firmware(2, { limit: 60 });
    run = await startAgent(configFor([2]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-2') >= 10, 10_000, detail('dev-2'));
    const starts = run.ble.stats().discoveryStarts;
    sim.removePeripheral(p.address);
    await waitUntil('reported as not seen', () => /not seen by the adapter/.test(status('dev-2').link ?? ''), 10_000, detail('dev-2'));
    expect(status('dev-2').connected).toBe(false);
    sim.addPeripheral(p); // back in range, not cached: only discovery finds it
    await waitUntil('all 60 stored', () => rows('dev-2') === 60 && p.unacked() === 0, 15_000, detail('dev-2'));
    expect(run.ble.stats().discoveryStarts).toBeGreaterThan(starts);
    expect(distinctRows('dev-2')).toBe(60);
    expect(status('dev-2').connected).toBe(true);
  });

  it('the adapter powered off and on: links go down with the reason and come back at once', async () => {
    const p = firmware(3, { limit: 60 });
    run = await startAgent(configFor([3]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-3') >= 10, 10_000, detail('dev-3'));
    sim.setPowered(false);
    await waitUntil('powered off in status', () => /powered off/.test(status('dev-3').link ?? ''), 10_000, detail('dev-3'));
    expect(status('dev-3').connected).toBe(false);
    sim.setPowered(true);
    await waitUntil('all 60 stored', () => rows('dev-3') === 60 && p.unacked() === 0, 15_000, detail('dev-3'));
    expect(distinctRows('dev-3')).toBe(60);
    expect(linkStats('dev-3').linkLosses).toBe(1);
  });

  it('bluetoothd restarting (org.bluez vanishes, objects come back new) is survived', async () => {
    const p = firmware(4, { limit: 60 });
    run = await startAgent(configFor([4]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-4') >= 10, 10_000, detail('dev-4'));
    await sim.stop();
    await waitUntil('bluetoothd gone in status', () => /bluetoothd not running/.test(status('dev-4').link ?? ''), 10_000, detail('dev-4'));
    await sim.start();
    await waitUntil('all 60 stored', () => rows('dev-4') === 60 && p.unacked() === 0, 15_000, detail('dev-4'));
    expect(distinctRows('dev-4')).toBe(60);
    expect(status('dev-4').connected).toBe(true);
    // A quick restart (gone and back between two supervision ticks) is noticed by the new owner of org.bluez.
    const before = linkStats('dev-4').connects;
    await sim.stop();
    await sim.start();
    await waitUntil('reconnected after a quick restart', () => linkStats('dev-4').connects > before && status('dev-4').connected, 10_000, detail('dev-4'));
  });

  it('bluetoothd exiting while a call of the agent is in flight (every kind of call) crashes nothing; the link recovers', async () => {
    const p = firmware(12, { limit: 400 });
    run = await startAgent(configFor([12]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-12') >= 10, 10_000, detail('dev-12'));
    // The call bluetoothd is answering when it goes: an ack being written, a property read, the object tree,
    // then (with bluetoothd back) the reconnect's own calls, each time at a different point of the set-up.
    for (const member of ['WriteValue', 'Get', 'Introspect', 'Connect', 'StartNotify', 'ReadValue', 'WriteValue']) {
      const before = linkStats('dev-12').connects;
      let exited = false;
      void sim.exitDuringCall(member).then(() => (exited = true));
      // Connect, StartNotify and the info read happen while a link is set up: a link loss makes one.
      if (['Connect', 'StartNotify', 'ReadValue'].includes(member)) sim.dropLink(p.address);
      await waitUntil(`bluetoothd exiting during ${member}`, () => exited, 10_000, detail('dev-12'));
      await waitUntil(`link down after bluetoothd exited during ${member}`, () => !status('dev-12').connected, 10_000, detail('dev-12'));
      await sim.start();
      await waitUntil(`reconnected after bluetoothd exited during ${member}`, () => linkStats('dev-12').connects > before && status('dev-12').connected, 15_000, detail('dev-12'));
    }
    await waitUntil('all 400 stored and acked', () => rows('dev-12') === 400 && p.unacked() === 0, 30_000, detail('dev-12'));
    expect(distinctRows('dev-12')).toBe(400);
  }, 120_000);

  it('the adapter unplugged and plugged back (bluetoothd keeps running) is survived', async () => {
    const p = firmware(7, { limit: 60 });
    run = await startAgent(configFor([7]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-7') >= 10, 10_000, detail('dev-7'));
    sim.unplugAdapter();
    await waitUntil('adapter gone in status', () => /adapter hci0 gone|no Bluetooth adapter/.test(status('dev-7').link ?? ''), 10_000, detail('dev-7'));
    expect(status('dev-7').connected).toBe(false);
    sim.plugAdapter();
    await waitUntil('all 60 stored', () => rows('dev-7') === 60 && p.unacked() === 0, 15_000, detail('dev-7'));
    expect(distinctRows('dev-7')).toBe(60);
    expect(status('dev-7').connected).toBe(true);
  });

  it('no system bus at start: the agent starts anyway, says why, and connects once the bus is reachable', async () => {
    const p = firmware(8, { limit: 20 });
    const good = process.env.DBUS_SYSTEM_BUS_ADDRESS;
    process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${t.dir}/no-such-bus`;
    try {
      run = await startAgent(configFor([8]));
      await waitUntil('bus unreachable in status', () => /system bus unreachable \(connect ENOENT/.test(status('dev-8').link ?? ''), 10_000, detail('dev-8'));
    } finally {
      process.env.DBUS_SYSTEM_BUS_ADDRESS = good;
    }
    p.start();
    await waitUntil('all 20 stored', () => rows('dev-8') === 20 && p.unacked() === 0, 15_000, detail('dev-8'));
  });

  it('the system bus daemon restarting cuts every connection; the driver builds a new one and reconnects', async () => {
    const p = firmware(11, { limit: 60 });
    run = await startAgent(configFor([11]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-11') >= 10, 10_000, detail('dev-11'));
    await bus.dbus.restart();
    await sim.stop(); // bluetoothd lost its bus too; it comes back after dbus, as under systemd
    await waitUntil('bus loss in status', () => /system bus unreachable|bluetoothd not running/.test(status('dev-11').link ?? ''), 10_000, detail('dev-11'));
    await sim.start();
    await waitUntil('all 60 stored', () => rows('dev-11') === 60 && p.unacked() === 0, 15_000, detail('dev-11'));
    expect(distinctRows('dev-11')).toBe(60);
  });

  it('the system bus daemon dying while a call is in flight: no crash, a new bus connection, the link recovers', async () => {
    const p = firmware(13, { limit: 300 });
    run = await startAgent(configFor([13]));
    p.start();
    await waitUntil('10 rows', () => rows('dev-13') >= 10, 10_000, detail('dev-13'));
    for (const member of ['WriteValue', 'Get', 'Connect']) {
      const before = linkStats('dev-13').connects;
      let crashed = false;
      sim.onNextCall(member, () => {
        bus.dbus.crash();
        crashed = true;
      });
      if (member === 'Connect') sim.dropLink(p.address);
      await waitUntil(`dbus-daemon killed during ${member}`, () => crashed, 10_000, detail('dev-13'));
      await bus.dbus.restart();
      await sim.stop(); // bluetoothd lost its bus too; it comes back after dbus, as under systemd
      await waitUntil(`bus loss after ${member} in status`, () => /system bus|bluetoothd not running/.test(status('dev-13').link ?? ''), 10_000, detail('dev-13'));
      await sim.start();
      await waitUntil(`reconnected after the bus died during ${member}`, () => linkStats('dev-13').connects > before && status('dev-13').connected, 15_000, detail('dev-13'));
    }
    await waitUntil('all 300 stored and acked', () => rows('dev-13') === 300 && p.unacked() === 0, 30_000, detail('dev-13'));
    expect(distinctRows('dev-13')).toBe(300);
  }, 120_000);

  it('no signal listeners leak across reconnects', async () => {
    const p = firmware(5, { rateHz: 5 });
    run = await startAgent(configFor([5]));
    p.start();
    await waitUntil('link up', () => status('dev-5').connected);
    const baseline = run.ble.signalListeners();
    expect(baseline).toBeGreaterThan(0);
    for (let i = 0; i < 6; i++) {
      const n = linkStats('dev-5').connects;
      sim.dropLink(p.address);
      await waitUntil(`reconnect ${i + 1}`, () => linkStats('dev-5').connects > n && status('dev-5').connected, 10_000, detail('dev-5'));
    }
    expect(run.ble.signalListeners()).toBe(baseline);
  });

  it('"Operation already in progress" from BlueZ is retried; the driver itself never races a device', async () => {
    const p = firmware(6, { limit: 10 });
    sim.failConnects(p.address, 2, 'org.bluez.Error.InProgress', 'Operation already in progress');
    run = await startAgent(configFor([6]));
    p.start();
    await waitUntil('10 stored', () => rows('dev-6') === 10, 10_000, detail('dev-6'));
    expect(linkStats('dev-6').inProgressRetries).toBe(2);
  });

  it('20 devices at once: all connect (connection set-ups bounded), every frame stored once', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => 10 + i);
    const before = { inProgress: sim.stats.inProgressErrors };
    const ps = ids.map((i) => firmware(i, { rateHz: 10, limit: 40 }));
    run = await startAgent(configFor(ids));
    for (const p of ps) p.start();
    await waitUntil('800 rows', () => count(run!.agent, 'SELECT count(*) AS n FROM readings') === 800, 30_000, () => ` (rows ${count(run!.agent, 'SELECT count(*) AS n FROM readings')})`);
    await waitUntil('all acked', () => ps.every((p) => p.unacked() === 0));
    for (const i of ids) expect(distinctRows(`dev-${i}`)).toBe(40);
    expect(run.agent.status().devices.filter((d) => d.connected)).toHaveLength(20);
    expect(sim.stats.maxConcurrentConnects).toBeLessThanOrEqual(2);
    expect(sim.stats.inProgressErrors).toBe(before.inProgress); // one attempt per device at a time
  });

  it('devices that are not allow-listed are never connected, only counted', async () => {
    const wanted = firmware(40, { limit: 5 }, false); // not cached: discovery must find it
    const strangers = [41, 42, 43].map((i) => {
      const s = i === 43 ? new Esp32Peripheral({ address: addr(i), id: 'neighbour' }) : new SensorPeripheral(addr(i), `tag-${i}`, [{ uuid: '180f', characteristics: [{ uuid: '2a19', value: Uint8Array.of(90) }] }]);
      peripherals.push(s);
      sim.addPeripheral(s);
      return s;
    });
    const { discoveryStarts, connectsWhileDiscovering } = sim.stats;
    run = await startAgent(configFor([40]));
    wanted.start();
    await waitUntil('5 stored', () => rows('dev-40') === 5, 10_000, detail('dev-40'));
    await waitUntil('strangers counted', () => run!.ble.stats().ignoredDevices === 3);
    for (const s of strangers) expect(sim.connectsByAddress.get(s.address) ?? 0).toBe(0);
    // Discovery found the wanted device, and was stopped before its connection was set up.
    expect(sim.stats.discoveryStarts).toBeGreaterThan(discoveryStarts);
    expect(sim.stats.connectsWhileDiscovering).toBe(connectsWhileDiscovering);
    expect(run.agent.status().devices.map((d) => d.id)).toEqual(['dev-40']);
    // …and the count is in status, where a technician looks.
    expect(run.agent.status().drivers?.find((d) => d.name === 'ble')?.stats).toMatchObject({ ignoredDevices: 3 });
    // Everything wanted is present: discovery is off again, so scanning does not compete with the links.
    await waitUntil('discovery stopped', () => !(sim.managedObjects()[sim.adapterPath]['org.bluez.Adapter1'].Discovering.value as boolean));
  });
});
