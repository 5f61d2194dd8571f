import type { ESPLoader } from 'esptool-js';

/**
 * Restarting a chip into its app without an EN line (bare UART, PTY, boards without the auto-reset
 * transistors): the stub arms the chip's RTC watchdog with a short timeout whose first stage resets the whole
 * chip. GPIO0 is no longer held low, so the chip boots from flash. Registers from the TRMs (RTC_CNTL); the
 * ESP32-C3 family (ESP32-C3, ESP8685, ESP8686: one CHIP_NAME in esptool-js) has the same watchdog elsewhere.
 */
interface RtcWatchdog {
  CONFIG0: number;
  CONFIG1: number;
  WPROTECT: number;
}
const RTC_WDT: Readonly<Record<string, RtcWatchdog>> = {
  ESP32: { CONFIG0: 0x3ff48000 + 0x8c, CONFIG1: 0x3ff48000 + 0x90, WPROTECT: 0x3ff48000 + 0xa4 },
  'ESP32-C3': { CONFIG0: 0x60008000 + 0x90, CONFIG1: 0x60008000 + 0x94, WPROTECT: 0x60008000 + 0xa8 },
};
/** the write-protect key of the RTC watchdog registers */
const WKEY = 0x50d83aa1;
/** CONFIG0: enable (bit 31) | stage 0 action 4 = reset the whole chip including RTC (bits 30:28) */
const ENABLE_STAGE0_RTC_RESET = (1 << 31) | (4 << 28);
/** stage 0 timeout in RTC slow-clock cycles (~150 kHz): ~100 ms, long enough for the stub to answer the lock write */
const STAGE0_CYCLES = 15000;

export const supportsRtcWatchdogReset = (chipName: string): boolean => chipName in RTC_WDT;

export async function resetThroughRtcWatchdog(loader: ESPLoader, chipName: string): Promise<void> {
  const r = RTC_WDT[chipName];
  if (!r) throw new Error(`no RTC watchdog reset known for ${chipName}`);
  await loader.writeReg(r.WPROTECT, WKEY);
  await loader.writeReg(r.CONFIG1, STAGE0_CYCLES);
  // The last command: its answer is sent before the watchdog can fire. The registers are not locked again: a
  // command after this one raced the reset on a busy host (its answer read as the ROM's boot log, "Invalid head
  // of packet", a flash called failed after its MD5 had been verified), and the reset restores the lock anyway.
  await loader.writeReg(r.CONFIG0, ENABLE_STAGE0_RTC_RESET >>> 0);
}
