import type { Category } from '../../firmware-bridge/protocol';
import type { DecoderSpec } from './characteristic-decoder';

/** One channel a third-party characteristic feeds: the decoder's value `key` becomes channel `n`. */
export interface SensorChannelSpec {
  n: number;
  key: string;
  kind: string;
  category: Category;
}

/** How a third-party characteristic is followed: its notifications, or a read every poll period. */
export const CHARACTERISTIC_MODES = ['notify', 'read'] as const;
export type CharacteristicMode = (typeof CHARACTERISTIC_MODES)[number];

export interface SensorCharacteristicSpec {
  /** full lower-case 128-bit UUID */
  uuid: string;
  /** the service to look in; any service when absent */
  service?: string;
  mode: CharacteristicMode;
  /** read mode: poll period */
  pollMs: number;
  decoder: DecoderSpec;
  channels: SensorChannelSpec[];
}

/** A configured (allow-listed) BLE device: our firmware, or a third-party sensor mapped by config. */
export interface BleDeviceSpec {
  id: string;
  /** upper-case MAC, e.g. 24:6F:28:AA:BB:CC */
  address: string;
  sensor?: { model: string; characteristics: SensorCharacteristicSpec[] };
}

/** The model a third-party sensor shows when its config names no deviceType. */
export const DEFAULT_SENSOR_MODEL = 'ble-sensor';
