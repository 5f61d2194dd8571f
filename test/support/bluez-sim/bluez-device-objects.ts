import { SimGattError, type SimCharacteristic, type SimPeripheral } from './sim-peripheral';
import { Interface, changed, fail, type Dict } from './dbus-object';

/** What a device's objects (Device1, its GATT characteristics) ask of the simulator behind them. */
export interface DeviceOwner {
  readonly stats: { reads: number; writes: number; writesWithoutResponse: number; startNotify: number; notifications: number };
  connect(device: Device1): Promise<void>;
  dropLink(address: string, why: 'disconnect' | 'link-loss'): void;
}

export class Device1 extends Interface {
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
    private readonly sim: DeviceOwner,
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

export class GattService1 extends Interface {
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

export class GattCharacteristic1 extends Interface {
  UUID: string;
  Flags: string[];
  Notifying = false;
  Value: Buffer = Buffer.alloc(0);
  constructor(
    private readonly sim: DeviceOwner,
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
