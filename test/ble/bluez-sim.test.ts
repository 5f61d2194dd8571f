import * as dbus from 'dbus-next';
import { Esp32Peripheral, hasDbusDaemon } from '../support/bluez-sim';
import { waitUntil } from '../support/wait-until';
import { startBus } from './ble-harness';

type ManagedObjects = Record<string, Record<string, Record<string, dbus.Variant>>>;

/** The harness itself: what a BlueZ client other than node-ble (bluetoothctl, ObjectManager users) would see. */
(hasDbusDaemon ? describe : describe.skip)('BlueZ simulator on a private D-Bus', () => {
  let bus: Awaited<ReturnType<typeof startBus>>;
  let client: dbus.MessageBus;

  beforeAll(async () => {
    bus = await startBus();
    client = dbus.sessionBus({ busAddress: bus.dbus.address });
  });
  afterAll(async () => {
    client.disconnect();
    await bus.stop();
  });

  it('serves ObjectManager at / with InterfacesAdded/Removed, and BlueZ errors by name', async () => {
    const root = (await client.getProxyObject('org.bluez', '/')).getInterface('org.freedesktop.DBus.ObjectManager');
    const added: string[] = [];
    const removed: string[] = [];
    root.on('InterfacesAdded', (path: string) => added.push(path));
    root.on('InterfacesRemoved', (path: string) => removed.push(path));
    const before = (await root.GetManagedObjects()) as ManagedObjects;
    expect(before['/org/bluez/hci0']['org.bluez.Adapter1'].Powered.value).toBe(true);

    const p = new Esp32Peripheral({ address: '24:6f:28:aa:bb:77', id: 'x' });
    bus.sim.addPeripheral(p, { cached: true });
    const dev = '/org/bluez/hci0/dev_24_6F_28_AA_BB_77';
    await waitUntil('InterfacesAdded', () => added.length === 5); // device, service, 3 characteristics
    expect(added[0]).toBe(dev);
    const objects = (await root.GetManagedObjects()) as ManagedObjects;
    expect(objects[dev]['org.bluez.Device1'].UUIDs.value).toEqual(['5965b800-23f6-453f-83c5-616337f253da']);
    const chars = Object.entries(objects).filter(([, i]) => 'org.bluez.GattCharacteristic1' in i).map(([, i]) => i['org.bluez.GattCharacteristic1'].UUID.value as string);
    expect(chars.sort()).toEqual(['5965b801-23f6-453f-83c5-616337f253da', '5965b802-23f6-453f-83c5-616337f253da', '5965b803-23f6-453f-83c5-616337f253da']);

    const device = (await client.getProxyObject('org.bluez', dev)).getInterface('org.bluez.Device1');
    const first = device.Connect();
    await expect(device.Connect()).rejects.toMatchObject({ type: 'org.bluez.Error.InProgress', text: 'Operation already in progress' });
    await first;
    await expect(device.Connect()).rejects.toMatchObject({ type: 'org.bluez.Error.AlreadyConnected' });
    const adapter = (await client.getProxyObject('org.bluez', '/org/bluez/hci0')).getInterface('org.bluez.Adapter1');
    await expect(adapter.StopDiscovery()).rejects.toMatchObject({ type: 'org.bluez.Error.Failed' });
    await adapter.RemoveDevice(dev);
    await waitUntil('InterfacesRemoved', () => removed.length === 5);
    expect(removed).toContain(dev);
    await expect(adapter.RemoveDevice(dev)).rejects.toMatchObject({ type: 'org.bluez.Error.DoesNotExist' });
    root.removeAllListeners();
  });
});
