import type * as dbus from 'dbus-next';
import { Interface, changed, fail, type Dict } from './dbus-object';

/** What bluetoothd's own objects (ObjectManager, Adapter1) ask of the simulator behind them. */
export interface AdapterOwner {
  readonly stats: { discoveryStarts: number };
  discoveryFilter: Record<string, unknown>;
  managedObjects(): Record<string, Record<string, Dict>>;
  onPowered(on: boolean): void;
  onDiscovering(on: boolean): void;
  removeDeviceObject(path: string): boolean;
}

export class ObjectManager extends Interface {
  constructor(private readonly sim: AdapterOwner) {
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
export class AgentManager1 extends Interface {
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

export class Adapter1 extends Interface {
  Address = '00:1A:7D:DA:71:13';
  AddressType = 'public';
  Name = 'edge-gw';
  Alias = 'edge-gw';
  Discovering = false;
  private powered = true;
  constructor(private readonly sim: AdapterOwner) {
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
