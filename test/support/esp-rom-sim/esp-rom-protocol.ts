/* The esptool serial protocol as the ESP32 ROM bootloader and esptool's flasher stub speak it. */

/** Bootloader command opcodes (esptool serial protocol). */
export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
} as const;

/** the commands that write or erase flash */
export const FLASH_WRITE_OPS: ReadonlySet<number> = new Set([
  OP.FLASH_BEGIN,
  OP.FLASH_DATA,
  OP.FLASH_DEFL_BEGIN,
  OP.FLASH_DEFL_DATA,
  OP.ERASE_FLASH,
  OP.ERASE_REGION,
]);

/** ROM status codes */
export const ERR_INVALID_MESSAGE = 0x05;
export const ERR_BAD_CHECKSUM = 0x07;
export const ERR_DEFLATE = 0x0b;
/** the stub's: a data block outside a FLASH_BEGIN … FLASH_END session */
export const ERR_NOT_IN_FLASH_MODE = 0xc6;

/** The checksum a data command carries for its payload. */
export function romChecksum(data: Uint8Array): number {
  let c = 0xef;
  for (const b of data) c ^= b;
  return c;
}

/**
 * A response packet (before SLIP): direction 1, op, data length, value, data, then the status bytes (4 from the
 * ROM, 2 from the stub).
 */
export function responsePacket(op: number, value: number, data: Uint8Array, status: readonly number[]): Buffer {
  const body = Buffer.concat([Buffer.from(data), Buffer.from(status)]);
  const pkt = Buffer.alloc(8 + body.length);
  pkt[0] = 0x01;
  pkt[1] = op;
  pkt.writeUInt16LE(body.length, 2);
  pkt.writeUInt32LE(value >>> 0, 4);
  body.copy(pkt, 8);
  return pkt;
}
