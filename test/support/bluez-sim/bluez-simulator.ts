import * as dbus from 'dbus-next';
import { SimGattError, type SimCharacteristic, type SimPeripheral } from './sim-peripheral';

const { Interface } = dbus.interface;
type DbusInterface = InstanceType<typeof Interface>;
const nameOf = (iface: DbusInterface): string => (iface as unknown as { $name: string }).$name;
type Dict = Record<string, dbus.Variant>;

const devicePath = (adapter: string, address: string): string => `/org/bluez/${adapter}/dev_${address.toUpperCase().replace(/:/g, '_')}`;
const fail = (name: string, text: string): dbus.DBusError => new dbus.DBusError(name, text);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const busWritable = (bus: dbus.MessageBus): boolean =>
  (bus as unknown as { _connection?: { stream?: { writable?: boolean } } })._connection?.stream?.writable !== false;

/** PropertiesChanged, unless the simulator's bus connection is already closed (bluetoothd "exited"). */
function changed(iface: DbusInterface, props: Record<string, unknown>): void {
  try {
    Interface.emitPropertiesChanged(iface, props, []);
  } catch (err) {
    if (!/stream is closed/.test(String(err))) throw err;
  }
}

/** Signatures of each exported interface's properties, for GetManagedObjects and InterfacesAdded. */
function propertiesOf(iface: DbusInterface): Dict {
  const props = (iface as unknown as { $properties?: Record<string, { name: string; signature: string }> }).$properties ?? {};
  const out: Dict = {};
  for (const [key, opt] of Object.entries(props)) {
    const value = (iface as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[opt.name] = new dbus.Variant(opt.signature, value);
  }
  return out;
}

class ObjectManager extends Interface {
  constructor(private readonly sim: BluezSimulator) {
    super('org.freedesktop.DBus.ObjectManager');
  }
  GetManagedObjects(): Record<string, Record<string, Dict>> {
    return this.sim.managedObjects();
  }
  InterfacesAdded(path: string, ifaces: Record<string, Dict>): [string, Record<string, Dict>] {
    return [path, ifaces];
  }
  InterfacesRemoved(path: string, ifaces: string[]): [string, string[]] {
    return [path, ifaces];
  }
}
ObjectManager.configureMembers({
  methods: { GetManagedObjects: { outSignature: 'a{oa{sa{sv}}}' } },
  signals: { InterfacesAdded: { signature: 'oa{sa{sv}}' }, InterfacesRemoved: { signature: 'oas' } },
});

/** node-ble's Bluetooth object proxies /org/bluez through this interface; it only has to exist. */
class AgentManager1 extends Interface {
  constructor() {
    super('org.bluez.AgentManager1');
  }
  RegisterAgent(): void {}
  UnregisterAgent(): void {}
  RequestDefaultAgent(): void {}
}
AgentManager1.configureMembers({
  methods: { RegisterAgent: { inSignature: 'os' }, UnregisterAgent: { inSignature: 'o' }, RequestDefaultAgent: { inSignature: 'o' } },
});

class Adapter1 extends Interface {
  Address = '00:1A:7D:DA:71:13';
  AddressType = 'public';
  Name = 'edge-gw';
  Alias = 'edge-gw';
  Discovering = false;
  private powered = true;
  constructor(private readonly sim: BluezSimulator) {
    super('org.bluez.Adapter1');
  }
  get Powered(): boolean {
    return this.powered;
  }
  set Powered(on: boolean) {
    if (on === this.powered) return;
    this.powered = on;
    changed(this, { Powered: on });
    this.sim.onPowered(on);
  }
  StartDiscovery(): void {
    if (!this.powered) throw fail('org.bluez.Error.NotReady', 'Resource Not Ready');
    if (this.Discovering) throw fail('org.bluez.Error.InProgress', 'Operation already in progress');
    this.sim.stats.discoveryStarts++;
    this.Discovering = true;
    changed(this, { Discovering: true });
    this.sim.onDiscovering(true);
  }
  StopDiscovery(): void {
    if (!this.powered) throw fail('org.bluez.Error.NotReady', 'Resource Not Ready');
    if (!this.Discovering) throw fail('org.bluez.Error.Failed', 'No discovery started');
    this.Discovering = false;
    changed(this, { Discovering: false });
    this.sim.onDiscovering(false);
  }
  SetDiscoveryFilter(filter: Record<string, dbus.Variant>): void {
    this.sim.discoveryFilter = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v.value as unknown]));
  }
  RemoveDevice(path: string): void {
    if (!this.sim.removeDeviceObject(path)) throw fail('org.bluez.Error.DoesNotExist', 'Does Not Exist');
  }
  GetDiscoveryFilters(): string[] {
    return ['UUIDs', 'RSSI', 'Pathloss', 'Transport', 'DuplicateData', 'Discoverable', 'Pattern'];
  }
}
Adapter1.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    AddressType: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    Alias: { signature: 's', access: 'readwrite' },
    Powered: { signature: 'b', access: 'readwrite' },
    Discovering: { signature: 'b', access: 'read' },
  },
  methods: {
    StartDiscovery: {},
    StopDiscovery: {},
    SetDiscoveryFilter: { inSignature: 'a{sv}' },
    RemoveDevice: { inSignature: 'o' },
    GetDiscoveryFilters: { outSignature: 'as' },
  },
});

class Device1 extends Interface {
  Address: string;
  AddressType = 'public';
  Name: string;
  Alias: string;
  RSSI: number;
  UUIDs: string[];
  Connected = false;
  ServicesResolved = false;
  Paired = false;
  Adapter: string;
  connecting = false;
  constructor(
    private readonly sim: BluezSimulator,
    readonly peripheral: SimPeripheral,
    adapterPath: string,
  ) {
    super('org.bluez.Device1');
    this.Address = peripheral.address.toUpperCase();
    this.Name = peripheral.name;
    this.Alias = peripheral.name;
    this.RSSI = peripheral.rssi;
    this.UUIDs = peripheral.uuids;
    this.Adapter = adapterPath;
  }
  async Connect(): Promise<void> {
    await this.sim.connect(this);
  }
  Disconnect(): void {
    this.sim.dropLink(this.Address, 'disconnect');
  }
  Pair(): void {
    this.Paired = true;
    changed(this, { Paired: true });
  }
  CancelPair(): void {}
  setLink(connected: boolean): void {
    this.Connected = connected;
    this.ServicesResolved = connected;
    // BlueZ sends Connected first and ServicesResolved once discovery of the GATT table finished.
    changed(this, { Connected: connected });
    changed(this, { ServicesResolved: connected });
  }
}
Device1.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    AddressType: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    Alias: { signature: 's', access: 'readwrite' },
    RSSI: { signature: 'n', access: 'read' },
    UUIDs: { signature: 'as', access: 'read' },
    Connected: { signature: 'b', access: 'read' },
    ServicesResolved: { signature: 'b', access: 'read' },
    Paired: { signature: 'b', access: 'read' },
    Adapter: { signature: 'o', access: 'read' },
  },
  methods: { Connect: {}, Disconnect: {}, Pair: {}, CancelPair: {} },
});

class GattService1 extends Interface {
  Primary = true;
  constructor(
    readonly UUID: string,
    readonly Device: string,
  ) {
    super('org.bluez.GattService1');
  }
}
GattService1.configureMembers({
  properties: { UUID: { signature: 's', access: 'read' }, Primary: { signature: 'b', access: 'read' }, Device: { signature: 'o', access: 'read' } },
});

class GattCharacteristic1 extends Interface {
  UUID: string;
  Flags: string[];
  Notifying = false;
  Value: Buffer = Buffer.alloc(0);
  constructor(
    private readonly sim: BluezSimulator,
    private readonly device: Device1,
    private readonly def: SimCharacteristic,
    readonly Service: string,
  ) {
    super('org.bluez.GattCharacteristic1');
    this.UUID = def.uuid;
    this.Flags = def.flags;
  }
  private guard(): void {
    if (!this.device.Connected) throw fail('org.bluez.Error.NotConnected', 'Not Connected');
  }
  ReadValue(_options: Dict): Buffer {
    this.guard();
    if (!this.def.read || !this.Flags.includes('read')) throw fail('org.bluez.Error.NotPermitted', 'Read not permitted');
    try {
      this.Value = Buffer.from(this.def.read());
    } catch (err) {
      if (err instanceof SimGattError) throw fail(err.dbusName, err.message);
      throw err;
    }
    this.sim.stats.reads++;
    return this.Value;
  }
  WriteValue(value: Buffer, options: Dict): void {
    this.guard();
    const type = (options.type?.value as 'request' | 'command' | 'reliable' | undefined) ?? 'reliable';
    const allowed = type === 'command' ? this.Flags.includes('write-without-response') : this.Flags.includes('write');
    if (!this.def.write || !allowed) throw fail('org.bluez.Error.NotSupported', `Operation is not supported (write type ${type})`);
    this.sim.stats.writes++;
    if (type === 'command') this.sim.stats.writesWithoutResponse++;
    try {
      this.def.write(new Uint8Array(value), type);
    } catch (err) {
      if (err instanceof SimGattError) throw fail(err.dbusName, err.message);
      throw err;
    }
  }
  StartNotify(): void {
    this.guard();
    if (!this.Flags.includes('notify') && !this.Flags.includes('indicate')) throw fail('org.bluez.Error.NotSupported', 'Operation is not supported');
    if (this.Notifying) return;
    this.Notifying = true;
    this.sim.stats.startNotify++;
    changed(this, { Notifying: true });
    this.def.onNotifying?.(true);
  }
  StopNotify(): void {
    if (!this.Notifying) return;
    this.setNotifying(false);
  }
  setNotifying(on: boolean): void {
    this.Notifying = on;
    changed(this, { Notifying: on });
    this.def.onNotifying?.(on);
  }
  push(value: Uint8Array): boolean {
    if (!this.Notifying || !this.device.Connected) return false;
    this.Value = Buffer.from(value);
    changed(this, { Value: this.Value });
    this.sim.stats.notifications++;
    return true;
  }
}
GattCharacteristic1.configureMembers({
  properties: {
    UUID: { signature: 's', access: 'read' },
    Service: { signature: 'o', access: 'read' },
    Value: { signature: 'ay', access: 'read' },
    Notifying: { signature: 'b', access: 'read' },
    Flags: { signature: 'as', access: 'read' },
  },
  methods: {
    ReadValue: { inSignature: 'a{sv}', outSignature: 'ay' },
    WriteValue: { inSignature: 'aya{sv}' },
    StartNotify: {},
    StopNotify: {},
  },
});

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
