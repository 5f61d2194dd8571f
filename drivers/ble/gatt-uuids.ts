/** GATT UUIDs of our firmware (DESIGN §3, a contract) and of the standard characteristics decoded built-in. */
const SUFFIX = '-23f6-453f-83c5-616337f253da';
export const FIRMWARE_GATT = {
  service: `5965b800${SUFFIX}`,
  /** notify: one decoded protocol frame per notification */
  uplink: `5965b801${SUFFIX}`,
  /** write: one gateway frame per write */
  downlink: `5965b802${SUFFIX}`,
  /** read: the CBOR hello body */
  info: `5965b803${SUFFIX}`,
} as const;

const BASE_SUFFIX = '-0000-1000-8000-00805f9b34fb';

/**
 * The full lower-case 128-bit form BlueZ reports: `2A6E`, `0x2a6e` and `00002a6e-0000-1000-8000-00805f9b34fb`
 * are the same characteristic. Null when the text is not a UUID.
 */
export function normaliseUuid(text: string): string | null {
  const t = text.trim().toLowerCase().replace(/^0x/, '');
  if (/^[0-9a-f]{4}$/.test(t)) return `0000${t}${BASE_SUFFIX}`;
  if (/^[0-9a-f]{8}$/.test(t)) return `${t}${BASE_SUFFIX}`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t)) return t;
  return null;
}

/** Bluetooth SIG assigned numbers the driver decodes without configuration (GATT Specification Supplement). */
export const STANDARD_CHARACTERISTICS = {
  /** Environmental Sensing: Temperature, sint16, 0.01 °C */
  temperature: normaliseUuid('2a6e')!,
  /** Environmental Sensing: Humidity, uint16, 0.01 % */
  humidity: normaliseUuid('2a6f')!,
  /** Environmental Sensing: Pressure, uint32, 0.1 Pa */
  pressure: normaliseUuid('2a6d')!,
  /** Battery Service: Battery Level, uint8, % */
  battery: normaliseUuid('2a19')!,
} as const;
