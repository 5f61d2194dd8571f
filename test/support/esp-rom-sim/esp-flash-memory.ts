/* The simulated board's SPI NOR flash: what erasing and writing do to it, and the app it holds. */

/** where the bootloader looks for the factory app */
export const APP_OFFSET = 0x10000;
const SECTOR = 0x1000;

/** Erases (to 0xff) every 4 KiB sector that `size` bytes from `offset` touch, as the stub does. */
export function eraseSectors(flash: Uint8Array, offset: number, size: number): void {
  const start = offset - (offset % SECTOR);
  const end = Math.min(flash.length, Math.ceil((offset + size) / SECTOR) * SECTOR);
  flash.fill(0xff, start, end);
}

/** NOR flash: writing can only clear bits; the optional fault flips the byte stored at `corruptByteAt`. */
export function programNor(flash: Uint8Array, address: number, bytes: Uint8Array, corruptByteAt?: number): void {
  for (let i = 0; i < bytes.length && address + i < flash.length; i++) {
    let b = bytes[i];
    if (address + i === corruptByteAt) b ^= 0x01;
    flash[address + i] &= b;
  }
}

/** The version string of the app descriptor of the image at the factory app offset, or null when no app. */
export function appVersionIn(flash: Uint8Array): string | null {
  if (flash[APP_OFFSET] !== 0xe9) return null;
  const desc = APP_OFFSET + 24 + 8;
  if (Buffer.from(flash.subarray(desc, desc + 4)).readUInt32LE(0) !== 0xabcd5432) return null;
  const v = flash.subarray(desc + 16, desc + 48);
  return Buffer.from(v.subarray(0, v.indexOf(0) < 0 ? 32 : v.indexOf(0))).toString('utf8');
}
