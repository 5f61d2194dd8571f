import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { TmuxSession, hasTmux } from '../support/tmux';
import { Esp32Peripheral, SensorPeripheral, hasDbusDaemon, type BluezSimulator } from '../support/bluez-sim';
import { BIN, runCli } from '../support/run-cli';
import { startBus } from './ble-harness';

const built = fs.existsSync(BIN) && fs.existsSync(`${BIN.replace(/bin\/edge-agent\.js$/, '')}dist/drivers/ble/ble-scanner.js`);

(hasDbusDaemon && built ? describe : describe.skip)('edge-agent devices scan --ble (the built CLI, talking to the BlueZ simulator)', () => {
  let bus: Awaited<ReturnType<typeof startBus>>;
  let sim: BluezSimulator;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    bus = await startBus();
    sim = bus.sim;
    env = { DBUS_SYSTEM_BUS_ADDRESS: bus.dbus.address };
    sim.addPeripheral(new Esp32Peripheral({ address: '24:6F:28:AA:BB:10', id: 'scale-1', rssi: -48 })); // found by discovery
    sim.addPeripheral(new SensorPeripheral('A4:C1:38:00:11:22', 'LYWSD03MMC', [{ uuid: '0000181a-0000-1000-8000-00805f9b34fb', characteristics: [] }], -77), { cached: true });
  });
  afterAll(async () => {
    await bus.stop();
  });

  it('lists nearby devices with RSSI, strongest first, and marks those with the edge-agent service', async () => {
    const r = await runCli(['devices', 'scan', '--ble', '--duration', '0.4', '--json'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { adapter: string; devices: Array<{ address: string; name: string; rssi: number; edgeAgent: boolean }> };
    expect(doc.adapter).toBe('hci0');
    expect(doc.devices.map((d) => [d.address, d.name, d.rssi, d.edgeAgent])).toEqual([
      ['24:6F:28:AA:BB:10', 'edge-scale-1', -48, true],
      ['A4:C1:38:00:11:22', 'LYWSD03MMC', -77, false],
    ]);
    // The scan stopped the discovery it started.
    expect(sim.managedObjects()[sim.adapterPath]['org.bluez.Adapter1'].Discovering.value).toBe(false);

    const human = await runCli(['devices', 'scan', '--ble', '--duration', '0.2'], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/ADDRESS\s+NAME\s+RSSI\s+EDGE-AGENT\s+CONNECTED/);
    expect(human.stdout).toMatch(/24:6F:28:AA:BB:10\s+edge-scale-1\s+-48 dBm\s+yes\s+no/);
    expect(human.stdout).toContain('- { id: edge-scale-1, transport: ble, address: "24:6F:28:AA:BB:10" }');
  });

  it('says what to do when the adapter is off or bluetoothd is not running; bad flags are usage errors', async () => {
    sim.setPowered(false);
    const off = await runCli(['devices', 'scan', '--ble', '--duration', '0.2'], { env });
    expect(off.code).toBe(1);
    expect(off.stderr.trim().split('\n').at(-1)).toBe('edge-agent: adapter hci0 is powered off — run: bluetoothctl power on');
    sim.setPowered(true);

    await sim.stop();
    const gone = await runCli(['devices', 'scan', '--ble', '--duration', '0.2'], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^edge-agent: bluetoothd is not running \(no org\.bluez on the system bus\)/m);
    await sim.start();

    const nobus = await runCli(['devices', 'scan', '--ble', '--duration', '0.2'], { env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/edge-agent-test-bus' } });
    expect(nobus.code).toBe(1);
    expect(nobus.stderr).toMatch(/^edge-agent: cannot reach the system D-Bus \(connect ENOENT \/nonexistent\/edge-agent-test-bus\) — is dbus running\?/m);

    const usage = await runCli(['devices', 'scan', '--ble', '--duration', 'soon'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--duration must be seconds/);
    const noBle = await runCli(['devices', 'scan', '--duration', '3'], { env });
    expect(noBle.code).toBe(2);
    expect(noBle.stderr).toMatch(/add --ble/);
  });

  (hasTmux ? it : it.skip)('devices pair at a terminal offers what the scan found, and pairs the chosen BLE device', async () => {
    const t = tempDir();
    const cfg = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfg,
      [`gateway: { id: ble-pair, dataDir: ${JSON.stringify(path.join(t.dir, 'data'))} }`, 'devices:', '  - { id: door-1, transport: sim, model: fridge-door, profile: home-a }', 'campaigns: []', ''].join('\n'),
    );
    const term = new TmuxSession(`${process.execPath} ${BIN} devices pair --config ${cfg}; echo "EXIT=$?"; sleep 60`, { cwd: REPO, env: { DBUS_SYSTEM_BUS_ADDRESS: bus.dbus.address } });
    try {
      await term.waitFor(/Transport \[1\]: $/m);
      term.type('2');
      const list = await term.waitFor(/BLE device \(its number, or an address\) \[1\]: $/m);
      expect(list).toMatch(/1\) 24:6F:28:AA:BB:10 {2}edge-scale-1 {2}-48 dBm {2}edge-agent firmware/);
      term.type('');
      await term.waitFor(/Device id.*: $/m);
      term.type('scale-ble');
      await term.waitFor(/Household profile \[1\]: $/m);
      term.type('');
      await term.waitFor(/Categories to grant.*: $/m);
      term.type('usage');
      await term.waitFor(/Channels.*: $/m);
      term.type('none');
      await term.waitFor(/Go ahead\? \(Y\/n\).*: $/m);
      term.type('y');
      expect(await term.waitFor(/EXIT=\d+/)).toMatch(/paired scale-ble: BLE 24:6F:28:AA:BB:10, profile home-a[\s\S]*EXIT=0/);
    } finally {
      term.kill();
    }
    expect(fs.readFileSync(cfg, 'utf8')).toContain('- { id: scale-ble, transport: ble, address: 24:6F:28:AA:BB:10, profile: home-a }');
    t.cleanup();
  }, 60_000);
});
