import type { ESPLoader } from 'esptool-js';

/**
 * Restarting an ESP32 into its app without an EN line (bare UART, PTY, boards without the auto-reset
 * transistors): the stub arms the chip's RTC watchdog with a short timeout whose first stage resets the whole
 * chip. GPIO0 is no longer held low, so the chip boots from flash. Registers from the ESP32 TRM (RTC_CNTL).
 */
const ESP32_RTC_CNTL = 0x3ff48000;
export const ESP32_RTC_WDT = {
  CONFIG0: ESP32_RTC_CNTL + 0x8c,
  CONFIG1: ESP32_RTC_CNTL + 0x90,
  WPROTECT: ESP32_RTC_CNTL + 0xa4,
  /** the write-protect key of the RTC watchdog registers */
  WKEY: 0x50d83aa1,
  /** CONFIG0: enable (bit 31) | stage 0 action 4 = reset the whole chip including RTC (bits 30:28) */
  ENABLE_STAGE0_RTC_RESET: (1 << 31) | (4 << 28),
  /** stage 0 timeout in RTC slow-clock cycles (~150 kHz): ~100 ms, long enough for the stub to answer the lock write */
  STAGE0_CYCLES: 15000,
} as const;

export const supportsRtcWatchdogReset = (chipName: string): boolean => chipName === 'ESP32';

export async function resetThroughRtcWatchdog(loader: ESPLoader): Promise<void> {
  const r = ESP32_RTC_WDT;
  await loader.writeReg(r.WPROTECT, r.WKEY);
  await loader.writeReg(r.CONFIG1, r.STAGE0_CYCLES);
  await loader.writeReg(r.CONFIG0, r.ENABLE_STAGE0_RTC_RESET >>> 0);
  await loader.writeReg(r.WPROTECT, 0);
}
