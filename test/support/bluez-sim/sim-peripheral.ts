/**
 * What a simulated BLE peripheral looks like to the BlueZ simulator: its advertisement (address, name, RSSI,
 * service UUIDs) and its GATT table. Behaviour lives in the characteristic callbacks; the simulator turns
 * them into org.bluez.GattCharacteristic1 objects.
 */

/** A D-Bus error BlueZ would return, e.g. `org.bluez.Error.Failed`. */
export class SimGattError extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SimCharacteristic {
  uuid: string;
  /** BlueZ flags: read, write, write-without-response, notify, indicate */
  flags: string[];
  read?: () => Uint8Array;
  write?: (value: Uint8Array, type: 'request' | 'command' | 'reliable') => void;
  /** notifications were switched on (StartNotify) or off */
  onNotifying?: (on: boolean) => void;
  /** set by the simulator: pushes a value to subscribed clients as a PropertiesChanged(Value) signal */
  notify?: (value: Uint8Array) => boolean;
}

export interface SimService {
  uuid: string;
  characteristics: SimCharacteristic[];
}

export interface SimPeripheral {
  address: string;
  name: string;
  rssi: number;
  /** advertised service UUIDs (Device1.UUIDs) */
  uuids: string[];
  services: SimService[];
  /** called when a central connects (after services resolved) and when the link goes down for any reason */
  onConnection?: (connected: boolean) => void;
}
