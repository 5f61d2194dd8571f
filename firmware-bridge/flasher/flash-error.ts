import * as fs from 'node:fs';
import type { WebSerialPortAdapter } from './web-serial-port-adapter';

export type FlashErrorKind = 'connect' | 'refused' | 'lost' | 'verify' | 'device' | 'stalled' | 'aborted';

/** A flash that did not happen or did not finish; the message is the one line the technician reads. */
export class FlashError extends Error {
  constructor(
    readonly kind: FlashErrorKind,
    message: string,
    readonly written: boolean,
    /**
     * the same flash again may succeed: a lost sync, a block not answered in time, a verify mismatch, a stalled
     * device (esptool's reset at the next connect restarts it), the port still held by the program letting go of it
     */
    readonly transient = false,
  ) {
    super(message);
  }
}

export const halfWrittenNote = (written: boolean): string =>
  written ? ' (the flash is half-written: the device stays in the bootloader until a flash succeeds)' : '';

/** Where the flash was when it failed. */
export interface FlashFailureContext {
  port: string;
  adapter: WebSerialPortAdapter;
  /** whether the device's flash may have been changed (erase or write begun) */
  written: boolean;
  /** still connecting to the ROM bootloader */
  connecting: boolean;
  /** what the flash was doing, for the message ("writing", "starting the flasher stub") */
  doing: string;
}

/** Turns what esptool-js or the port threw into the FlashError the technician reads (a FlashError stays as it is). */
export function explainFlashFailure(err: unknown, at: FlashFailureContext): FlashError {
  if (err instanceof FlashError) return err;
  const { port, adapter, written } = at;
  const msg = err instanceof Error ? err.message : String(err);
  const again = 'reconnect it and run the same command again';
  const halfWritten = halfWrittenNote(written);
  const gone = !fs.existsSync(port);
  if (adapter.opened && (adapter.lostReason !== null || gone)) {
    const why = gone ? 'the port disappeared: unplugged?' : `port error: ${adapter.lostReason}`;
    return new FlashError(
      'lost',
      `the device went away while ${at.doing} on ${port} (${why}) — ${again}${halfWritten}`,
      written,
    );
  }
  if (/MD5 of file does not match/i.test(msg)) {
    return new FlashError(
      'verify',
      `verification failed: the flash content read back (MD5) differs from the image — flash again; if it repeats, try a lower --baud or another cable (the flash chip may be worn)`,
      true,
      true,
    );
  }
  if (at.connecting) {
    if (/Permission denied|EACCES/i.test(msg)) {
      return new FlashError(
        'connect',
        `cannot open ${port}: permission denied — add your user to the "dialout" group (sudo usermod -aG dialout $USER, then log in again)`,
        false,
      );
    }
    if (/Cannot lock port|Resource temporarily unavailable/i.test(msg)) {
      return new FlashError(
        'connect',
        `${port} is in use by another program (the agent's serial driver, a serial monitor) — stop it (sudo systemctl stop edge-agent) and run the same command again`,
        false,
        true,
      );
    }
    if (gone) {
      return new FlashError(
        'connect',
        `${port} does not exist — is the board plugged in? (edge-agent devices scan lists the ports)`,
        false,
      );
    }
    if (/ENOENT|No such file|cannot open|Error: Error/i.test(msg) && !/Failed to connect/.test(msg)) {
      return new FlashError('connect', `cannot open ${port}: ${msg} — check the port (edge-agent devices scan)`, false);
    }
    return new FlashError(
      'connect',
      `no ESP bootloader answers on ${port} (${msg}) — put the board in download mode (hold BOOT, tap EN/RESET, release BOOT) and check the port and cable`,
      false,
      true,
    );
  }
  return new FlashError(
    'device',
    `flashing failed while ${at.doing}: ${msg} — ${again}${halfWritten}`,
    written,
    true,
  );
}
