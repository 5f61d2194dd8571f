import * as dbus from 'dbus-next';
import { ObjectManager, AgentManager1, Adapter1 } from './bluez-adapter-objects';
import { Device1, GattCharacteristic1, GattService1 } from './bluez-device-objects';
import { changed, fail, nameOf, propertiesOf, type DbusInterface, type Dict } from './dbus-object';
import type { SimPeripheral } from './sim-peripheral';

const devicePath = (adapter: string, address: string): string => `/org/bluez/${adapter}/dev_${address.toUpperCase().replace(/:/g, '_')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const busWritable = (bus: dbus.MessageBus): boolean =>
  (bus as unknown as { _connection?: { stream?: { writable?: boolean } } })._connection?.stream?.writable !== false;

interface DeviceEntry {
  peripheral: SimPeripheral;
  /** in BlueZ's object tree now (cached from an earlier scan or pairing, or seen by discovery) */
  exported: { device: Device1; objects: Array<{ path: string; iface: DbusInterface }>; chars: GattCharacteristic1[] } | null;
  /** BlueZ remembers it across restarts (paired/cached): exported as soon as bluetoothd starts */
  cached: boolean;
  /** in radio range: discovery finds it, Connect succeeds */
  inRange: boolean;
  failConnects: Array<{ name: string; text: string }>;
}

export interface BluezSimulatorOptions {
  adapter?: string;
  /** how long Connect takes (a second concurrent Connect meanwhile gets "Operation already in progress") */
  connectDelayMs?: number;
  /** how long after StartDiscovery an in-range device shows up */
  discoveryDelayMs?: number;
}

/**
 * A BlueZ-shaped D-Bus service: it owns `org.bluez` on the given bus and exports the objects node-ble (and any
 * BlueZ client) talks to — ObjectManager at `/`, AgentManager1 at /org/bluez, Adapter1 at /org/bluez/hci0,
 * Device1 / GattService1 / GattCharacteristic1 below it — with BlueZ's error names and property signals.
 * `stop()` drops the bus connection, which to clients is bluetoothd going away; `start()` brings it back.
 */
export class BluezSimulator {
  readonly adapterName: string;
  readonly adapterPath: string;
  private bus: dbus.MessageBus | null = null;
  private adapter: Adapter1 | null = null;
  private objectManager: ObjectManager | null = null;
  private readonly entries = new Map<string, DeviceEntry>();
  private discoveryTimers: NodeJS.Timeout[] = [];
  discoveryFilter: Record<string, unknown> = {};
  readonly stats = {
    connectCalls: 0,
    inProgressErrors: 0,
    maxConcurrentConnects: 0,
    /** Connect calls that arrived while the adapter was discovering (scanning slows connection set-up) */
    connectsWhileDiscovering: 0,
    discoveryStarts: 0,
    reads: 0,
    writes: 0,
    writesWithoutResponse: 0,
    startNotify: 0,
    notifications: 0,
  };
  private connectsInFlight = 0;
  private onCall: { member: string; action: () => void } | null = null;
  /** Connect calls per device address */
  readonly connectsByAddress = new Map<string, number>();

  constructor(
    private readonly busAddress: string,
    private readonly opts: BluezSimulatorOptions = {},
  ) {
    this.adapterName = opts.adapter ?? 'hci0';
    this.adapterPath = `/org/bluez/${this.adapterName}`;
  }

  get running(): boolean {
    return this.bus !== null;
  }

  async start(): Promise<void> {
    const bus = dbus.sessionBus({ busAddress: this.busAddress });
    this.bus = bus;
    bus.on('error', () => undefined); // the daemon going away at teardown is not an error of the simulator
    // A bluetoothd that exited (or lost its bus) sends nothing. dbus-next answers a call that arrived before
    // the close with a synchronous bus.send(), which throws 'Cannot send message, stream is closed' inside its
    // 'message' handler (and again from its own error reply), an uncaught exception in whatever process hosts
    // the service: replies and signals on a connection that is closed, or no longer ours, are dropped instead.
    const send = bus.send.bind(bus);
    bus.send = (msg) => {
      if (this.bus === bus && busWritable(bus)) send(msg);
    };
    bus.on('message', (msg: dbus.Message) => {
      const hook = this.onCall;
      if (hook && msg.type === dbus.MessageType.METHOD_CALL && msg.member === hook.member) {
        this.onCall = null;
        hook.action(); // before dbus-next dispatches the call: whatever the action closes, the reply meets it
      }
    });
    this.objectManager = new ObjectManager(this);
    bus.export('/', this.objectManager);
    bus.export('/org/bluez', new AgentManager1());
    this.adapter = new Adapter1(this);
    bus.export(this.adapterPath, this.adapter);
    const reply = await bus.requestName('org.bluez', dbus.NameFlag.DO_NOT_QUEUE);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER) throw new Error(`could not own org.bluez (reply ${reply})`);
    for (const e of this.entries.values()) if (e.cached) this.exportDevice(e);
  }

  /**
   * bluetoothd exits right after the next call of `member` reached it, before it answers: the caller's request
   * is in flight while the connection closes. Resolves once stopped.
   */
  exitDuringCall(member: string): Promise<void> {
    return new Promise<void>((done) => this.onNextCall(member, () => void this.stop().then(done)));
  }

  /** Runs `action` when the next call of `member` arrives, before the simulator handles it (one shot). */
  onNextCall(member: string, action: () => void): void {
    this.onCall = { member, action };
  }

  /** bluetoothd exits: every object and the bus name vanish at once. Peripherals stay (they are radios). */
  async stop(): Promise<void> {
    for (const t of this.discoveryTimers) clearTimeout(t);
    this.discoveryTimers = [];
    for (const e of this.entries.values()) {
      // The radios stay, the objects go: nothing may emit on the closed connection afterwards.
      for (const c of e.peripheral.services.flatMap((s) => s.characteristics)) c.notify = () => false;
      if (e.exported?.device.Connected) {
        e.exported.device.Connected = false;
        e.peripheral.onConnection?.(false);
      }
      e.exported = null;
    }
    const bus = this.bus;
    this.bus = null;
    this.adapter = null;
    try {
      bus?.disconnect();
    } catch {
      // the daemon died first: the connection is already gone
    }
  }

  /** Adds a peripheral in range. `cached: true` puts it in the object tree at once, as after an earlier pairing. */
  addPeripheral(p: SimPeripheral, opts: { cached?: boolean } = {}): void {
    const e: DeviceEntry = { peripheral: p, exported: null, cached: opts.cached ?? false, inRange: true, failConnects: [] };
    this.entries.set(p.address.toUpperCase(), e);
    for (const c of p.services.flatMap((s) => s.characteristics)) c.notify = () => false;
    if (this.bus && (e.cached || this.adapter?.Discovering)) this.exportDevice(e);
  }

  /** The peripheral leaves (out of range, battery out): its link drops and BlueZ forgets the object. */
  removePeripheral(address: string): void {
    const e = this.entries.get(address.toUpperCase());
    if (!e) return;
    if (e.exported) this.removeDeviceObject(devicePath(this.adapterName, address));
    this.entries.delete(address.toUpperCase());
  }

  /** The next `n` Connect calls for this device fail with the given BlueZ error. */
  failConnects(address: string, n: number, name = 'org.bluez.Error.Failed', text = 'le-connection-abort-by-local'): void {
    const e = this.entries.get(address.toUpperCase());
    for (let i = 0; i < n; i++) e?.failConnects.push({ name, text });
  }

  isConnected(address: string): boolean {
    return this.entries.get(address.toUpperCase())?.exported?.device.Connected ?? false;
  }

  /** Link loss (supervision timeout): Connected/ServicesResolved go false, notifications stop. */
  dropLink(address: string, _why: 'disconnect' | 'link-loss' = 'link-loss'): void {
    const x = this.entries.get(address.toUpperCase());
    const ex = x?.exported;
    if (!x || !ex || !ex.device.Connected) return;
    for (const c of ex.chars) if (c.Notifying) c.setNotifying(false);
    ex.device.setLink(false);
    x.peripheral.onConnection?.(false);
  }

  /** The USB dongle is pulled: the adapter and every device object under it vanish; bluetoothd keeps running. */
  unplugAdapter(): void {
    const bus = this.bus;
    const adapter = this.adapter;
    if (!bus || !adapter) return;
    for (const e of this.entries.values()) {
      if (!e.exported) continue;
      const cached = e.cached;
      this.removeDeviceObject(e.exported.objects[0].path);
      e.cached = cached; // BlueZ keeps paired devices on disk: they come back with the adapter
    }
    bus.unexport(this.adapterPath, adapter);
    this.objectManager?.InterfacesRemoved(this.adapterPath, ['org.bluez.Adapter1']);
    this.adapter = null;
  }

  /** The dongle is plugged back in: a fresh adapter object, powered, with the cached devices. */
  plugAdapter(): void {
    const bus = this.bus;
    if (!bus || this.adapter) return;
    this.adapter = new Adapter1(this);
    bus.export(this.adapterPath, this.adapter);
    this.objectManager?.InterfacesAdded(this.adapterPath, { 'org.bluez.Adapter1': propertiesOf(this.adapter) });
    for (const e of this.entries.values()) if (e.cached) this.exportDevice(e);
  }

  setPowered(on: boolean): void {
    if (!this.adapter) return;
    this.adapter.Powered = on;
  }

  onPowered(on: boolean): void {
    if (on || !this.adapter) return;
    for (const e of this.entries.values()) if (e.exported) this.dropLink(e.peripheral.address);
    if (this.adapter.Discovering) {
      this.adapter.Discovering = false;
      changed(this.adapter, { Discovering: false });
      this.onDiscovering(false);
    }
  }

  onDiscovering(on: boolean): void {
    for (const t of this.discoveryTimers) clearTimeout(t);
    this.discoveryTimers = [];
    if (!on) return;
    for (const e of this.entries.values()) {
      if (e.exported || !e.inRange) continue;
      const t = setTimeout(() => {
        if (this.adapter?.Discovering && !e.exported && this.entries.get(e.peripheral.address.toUpperCase()) === e) this.exportDevice(e);
      }, this.opts.discoveryDelayMs ?? 20);
      this.discoveryTimers.push(t);
    }
  }

  async connect(device: Device1): Promise<void> {
    this.stats.connectCalls++;
    this.connectsByAddress.set(device.Address, (this.connectsByAddress.get(device.Address) ?? 0) + 1);
    const e = this.entries.get(device.Address);
    if (!this.adapter?.Powered) throw fail('org.bluez.Error.NotReady', 'Resource Not Ready');
    if (device.Connected) throw fail('org.bluez.Error.AlreadyConnected', 'Already Connected');
    if (device.connecting) {
      this.stats.inProgressErrors++;
      throw fail('org.bluez.Error.InProgress', 'Operation already in progress');
    }
    device.connecting = true;
    const bus = this.bus;
    if (this.adapter.Discovering) this.stats.connectsWhileDiscovering++;
    this.connectsInFlight++;
    this.stats.maxConcurrentConnects = Math.max(this.stats.maxConcurrentConnects, this.connectsInFlight);
    try {
      await sleep(this.opts.connectDelayMs ?? 5);
      // bluetoothd "exited" meanwhile (and maybe came back on a new connection): no reply can go out on the
      // closed one, and none is sent.
      if (this.bus !== bus) {
        device.connecting = false;
        this.connectsInFlight--;
        await new Promise<never>(() => undefined);
      }
      const f = e?.failConnects.shift();
      if (f) throw fail(f.name, f.text);
      if (!e || !e.inRange || e.exported?.device !== device) throw fail('org.bluez.Error.Failed', 'le-connection-abort-by-local');
      if (!this.adapter?.Powered) throw fail('org.bluez.Error.NotReady', 'Resource Not Ready');
      device.setLink(true);
      e.peripheral.onConnection?.(true);
    } finally {
      device.connecting = false;
      this.connectsInFlight--;
    }
  }

  private exportDevice(e: DeviceEntry): void {
    const bus = this.bus;
    if (!bus || e.exported) return;
    const p = e.peripheral;
    const path = devicePath(this.adapterName, p.address);
    const device = new Device1(this, p, this.adapterPath);
    const objects: Array<{ path: string; iface: DbusInterface }> = [{ path, iface: device }];
    const chars: GattCharacteristic1[] = [];
    let handle = 0x0a;
    for (const s of p.services) {
      const sPath = `${path}/service${(handle++).toString(16).padStart(4, '0')}`;
      objects.push({ path: sPath, iface: new GattService1(s.uuid, path) });
      for (const c of s.characteristics) {
        const cPath = `${sPath}/char${(handle++).toString(16).padStart(4, '0')}`;
        const ch = new GattCharacteristic1(this, device, c, sPath);
        c.notify = (value) => ch.push(value);
        chars.push(ch);
        objects.push({ path: cPath, iface: ch });
      }
    }
    e.exported = { device, objects, chars };
    for (const o of objects) {
      bus.export(o.path, o.iface);
      this.objectManager?.InterfacesAdded(o.path, { [nameOf(o.iface)]: propertiesOf(o.iface) });
    }
  }

  /** Removes a device object (RemoveDevice, or the device left); false when there was none at that path. */
  removeDeviceObject(path: string): boolean {
    const e = [...this.entries.values()].find((x) => x.exported && x.exported.objects[0].path === path);
    if (!e || !e.exported || !this.bus) return false;
    this.dropLink(e.peripheral.address);
    for (const c of e.peripheral.services.flatMap((s) => s.characteristics)) c.notify = () => false;
    for (const o of [...e.exported.objects].reverse()) {
      this.bus.unexport(o.path, o.iface);
      this.objectManager?.InterfacesRemoved(o.path, [nameOf(o.iface), 'org.freedesktop.DBus.Properties']);
    }
    e.exported = null;
    e.cached = false;
    return true;
  }

  managedObjects(): Record<string, Record<string, Dict>> {
    const out: Record<string, Record<string, Dict>> = {};
    if (this.adapter) out[this.adapterPath] = { 'org.bluez.Adapter1': propertiesOf(this.adapter) };
    for (const e of this.entries.values()) {
      for (const o of e.exported?.objects ?? []) out[o.path] = { [nameOf(o.iface)]: propertiesOf(o.iface) };
    }
    return out;
  }
}
