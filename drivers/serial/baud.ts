/** What ESP32 firmware talks at unless configured otherwise (config `baud:`, the CLI's `--baud`). */
export const DEFAULT_BAUD = 115200;
