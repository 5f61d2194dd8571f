import { SimGattError, type SimCharacteristic, type SimPeripheral, type SimService } from './sim-peripheral';

export interface SensorCharacteristicSpec {
  uuid: string;
  /** value returned by reads (and the last notified one) */
  value?: Uint8Array;
  notify?: boolean;
  /** reads fail with this ATT error, as a broken or protected characteristic does */
  readError?: string;
}

/**
 * A third-party BLE sensor (a thermometer, a battery-powered tag): plain GATT characteristics with values a
 * test sets and notifies, or that fail on read. Nothing of our protocol.
 */
export class SensorPeripheral implements SimPeripheral {
  readonly address: string;
  readonly services: SimService[];
  readonly uuids: string[];
  readonly reads = new Map<string, number>();
  private readonly chars = new Map<string, { def: SimCharacteristic; spec: SensorCharacteristicSpec; value: Uint8Array }>();

  constructor(
    address: string,
    readonly name: string,
    services: Array<{ uuid: string; characteristics: SensorCharacteristicSpec[] }>,
    readonly rssi = -71,
  ) {
    this.address = address.toUpperCase();
    this.uuids = services.map((s) => s.uuid);
    this.services = services.map((s) => ({
      uuid: s.uuid,
      characteristics: s.characteristics.map((spec) => {
        const entry = { spec, value: spec.value ?? new Uint8Array(0), def: null as unknown as SimCharacteristic };
        entry.def = {
          uuid: spec.uuid,
          flags: ['read', ...(spec.notify ? ['notify'] : [])],
          read: () => {
            this.reads.set(spec.uuid, (this.reads.get(spec.uuid) ?? 0) + 1);
            if (spec.readError) throw new SimGattError('org.bluez.Error.Failed', spec.readError);
            return entry.value;
          },
        };
        this.chars.set(spec.uuid, entry);
        return entry.def;
      }),
    }));
  }

  /** Sets a characteristic's value; notifies it when the characteristic has notify and a client subscribed. */
  set(uuid: string, value: Uint8Array): boolean {
    const c = this.chars.get(uuid);
    if (!c) throw new Error(`no characteristic ${uuid}`);
    c.value = value;
    return c.spec.notify ? (c.def.notify?.(value) ?? false) : false;
  }
}
