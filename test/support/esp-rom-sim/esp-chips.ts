/** The chips the simulator can be: how esptool-js identifies each, and where their SPI and RTC watchdog registers are. */
export type SimChip = 'ESP32' | 'ESP32-C3';
export interface ChipProfile {
  /** GET_SECURITY_INFO's chip id; null: the ROM does not know the command (ESP32), detection reads the magic */
  securityChipId: number | null;
  /** the identity registers (targets/esp32*.js): MAC, package, revision, crystal */
  identity: (mac: readonly number[]) => Array<[number, number]>;
  spi: { base: number; usr2: number; w0: number };
  rtcWdt: { config0: number; config1: number; wprotect: number };
  bootLog: (reason: string) => string;
}
/** the RTC watchdog write-protect key: the watchdog registers take writes only while it is set */
export const RTC_WDT_WKEY = 0x50d83aa1;
export const CHIPS: Record<SimChip, ChipProfile> = {
  ESP32: {
    securityChipId: null,
    identity: (m) => [
      [0x40001000, 0x00f01d83], // CHIP_DETECT_MAGIC
      [0x3ff5a000 + 4 * 1, ((m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5]) >>> 0],
      [0x3ff5a000 + 4 * 2, (m[0] << 8) | m[1]],
      // word 3: package ESP32-D0WD (bits 9..11 = 1), revision bit 0; word 5 and APB date: revision 3 (ECO3)
      [0x3ff5a000 + 4 * 3, (1 << 9) | (1 << 15)],
      [0x3ff5a000 + 4 * 5, 1 << 20],
      [0x3ff66000 + 0x7c, 0x80000000],
      [0x3ff40014, Math.round(40e6 / 115200)], // UART divider of a 40 MHz crystal at 115200 baud
    ],
    spi: { base: 0x3ff42000, usr2: 0x3ff42000 + 0x24, w0: 0x3ff42000 + 0x80 },
    rtcWdt: { config0: 0x3ff4808c, config1: 0x3ff48090, wprotect: 0x3ff480a4 },
    bootLog: (reason) => `ets Jun  8 2016 00:22:57\r\n\r\n${reason},boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n`,
  },
  'ESP32-C3': {
    securityChipId: 5,
    identity: (m) => [
      // EFUSE block 1 at 0x60008844: MAC words 0/1; word 3: package QFN32 (bits 21..23 = 0), minor revision
      // low bits 18..20 = 4; word 5: major revision bits 24..25 = 0 -> "ESP32-C3 (QFN32) (revision v0.4)"
      [0x60008844, ((m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5]) >>> 0],
      [0x60008848, (m[0] << 8) | m[1]],
      [0x60008844 + 4 * 3, 4 << 18],
      [0x60008844 + 4 * 5, 0],
      [0x3ff40014, Math.round(40e6 / 115200)],
    ],
    spi: { base: 0x60002000, usr2: 0x60002000 + 0x20, w0: 0x60002000 + 0x58 },
    rtcWdt: { config0: 0x60008090, config1: 0x60008094, wprotect: 0x600080a8 },
    bootLog: (reason) => `ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n${reason},boot:0xc (SPI_FAST_FLASH_BOOT)\r\n`,
  },
};
/** SPI_CMD register: start the user command */
export const SPI_CMD_USR = 1 << 18;
