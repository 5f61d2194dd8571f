import * as NodeBle from 'node-ble';
import { bluezErrorName, bluezErrorText, bluezOwner, bluezProp, onBusError, withTimeout } from './bluez-access';
import { FIRMWARE_GATT } from './gatt-uuids';

export interface BleScanEntry {
  address: string;
  name: string | null;
  /** dBm; null when BlueZ has no recent advertisement (a cached device not in range) */
  rssi: number | null;
  /** advertises our firmware's GATT service */
  edgeAgent: boolean;
  uuids: string[];
  connected: boolean;
}

export interface BleScanResult {
  adapter: string;
  devices: BleScanEntry[];
}

/** A scan that cannot run; the message says what to do. */
export class BleScanError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function explain(err: unknown): string {
  const name = bluezErrorName(err);
  if (/AccessDenied/.test(name)) return 'not allowed to talk to BlueZ on the system bus — add this user to the "bluetooth" group (see docs/ble.md)';
  if (/ENOENT|ECONNREFUSED/.test(name)) return `cannot reach the system D-Bus (${name}) — is dbus running? does DBUS_SYSTEM_BUS_ADDRESS point to it?`;
  return bluezErrorText(err);
}

/**
 * `devices scan --ble`: discovers for `durationMs` through BlueZ and lists what the adapter saw, strongest
 * first, marking devices that advertise our service. Talks to BlueZ directly, the agent need not run; a
 * discovery already running (the agent's, bluetoothctl's) is joined, not stopped.
 */
export async function scanBle(opts: { durationMs: number; adapter?: string; createBluetooth?: typeof NodeBle.createBluetooth }): Promise<BleScanResult> {
  const { bluetooth, destroy } = (opts.createBluetooth ?? NodeBle.createBluetooth)();
  let busError: unknown = null;
  let failBus: (err: unknown) => void = () => undefined;
  const busFailed = new Promise<never>((_resolve, reject) => (failBus = reject));
  busFailed.catch(() => undefined);
  onBusError(bluetooth, (err) => {
    busError = err;
    failBus(err);
  });
  try {
    let owner: string | null = null;
    try {
      // A connection that could not be made never fails its calls in dbus-next: the limit turns that into an answer.
      owner = await withTimeout(Promise.race([bluezOwner(bluetooth), busFailed]), 5000, 'reaching the system bus');
    } catch (err) {
      throw new BleScanError(explain(busError ?? err));
    }
    if (busError) throw new BleScanError(explain(busError));
    if (!owner) throw new BleScanError('bluetoothd is not running (no org.bluez on the system bus) — start it: sudo systemctl start bluetooth');
    let names: string[];
    try {
      names = await withTimeout(bluetooth.adapters(), 10_000, 'listing adapters');
    } catch (err) {
      throw new BleScanError(explain(err));
    }
    const name = opts.adapter ?? names[0];
    if (!name || !names.includes(name)) throw new BleScanError(opts.adapter ? `adapter ${opts.adapter} not found (have: ${names.join(', ') || 'none'})` : 'no Bluetooth adapter found (is the dongle plugged in? `hciconfig -a`)');
    const adapter = await bluetooth.getAdapter(name);
    if (!(await adapter.isPowered())) throw new BleScanError(`adapter ${name} is powered off — run: bluetoothctl power on`);
    let started = false;
    if (!(await adapter.isDiscovering())) {
      try {
        await adapter.startDiscovery();
        started = true;
      } catch (err) {
        if (!/already in progress|InProgress/.test(bluezErrorName(err))) throw new BleScanError(`cannot start discovery: ${explain(err)}`);
      }
    }
    await sleep(opts.durationMs);
    const devices: BleScanEntry[] = [];
    for (const address of await adapter.devices()) {
      let device: NodeBle.Device;
      try {
        device = await adapter.getDevice(address);
      } catch {
        continue; // gone between the listing and now
      }
      const [dname, rssi, uuids, connected] = await Promise.all([
        bluezProp(device, 'Name'),
        bluezProp(device, 'RSSI'),
        bluezProp(device, 'UUIDs'),
        bluezProp(device, 'Connected'),
      ]);
      const list = Array.isArray(uuids) ? uuids.filter((u): u is string => typeof u === 'string').map((u) => u.toLowerCase()) : [];
      devices.push({
        address: address.toUpperCase(),
        name: typeof dname === 'string' ? dname : null,
        rssi: typeof rssi === 'number' ? rssi : null,
        edgeAgent: list.includes(FIRMWARE_GATT.service),
        uuids: list,
        connected: connected === true,
      });
    }
    if (started) {
      try {
        await adapter.stopDiscovery();
      } catch {
        // powered off meanwhile: nothing to stop
      }
    }
    devices.sort((a, b) => (b.rssi ?? -999) - (a.rssi ?? -999) || a.address.localeCompare(b.address));
    return { adapter: name, devices };
  } finally {
    destroy();
  }
}
