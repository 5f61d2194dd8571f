import type { SerialPort } from 'serialport';
import { ESP_IMAGE_MAGIC, inspectEspImage } from '../../firmware-bridge/flasher/esp-image-inspector';
import { EspFlasher, FLASH_STALL_MS } from '../../firmware-bridge/flasher/esp-flasher';
import { FlashError } from '../../firmware-bridge/flasher/flash-error';
import { DEFAULT_APP_ADDRESS, type FlashPlan } from '../../firmware-bridge/flasher/flash-plan';
import { listenForHello, type HelloBody } from '../../firmware-bridge/flasher/hello-listener';
import type { DeviceFlashLink, FlashAppOptions } from './rollout-executor';

const SECTOR = 0x1000;
const HEADER_LEN = 24;

/**
 * Reads back the app image at `address` by walking its own header (esp_image_format.h): segment headers, then
 * the checksum byte and the appended SHA-256 when the header says so. Only the image's own length is read, in
 * whole flash sectors, so backing up a 1 MB app in a 4 MB flash costs 1 MB of serial transfer, not 4.
 */
export async function readRunningApp(
  read: (address: number, size: number) => Promise<Uint8Array>,
  address: number,
  limit: number,
): Promise<Buffer> {
  let buf = Buffer.alloc(0);
  const ensure = async (n: number): Promise<void> => {
    if (n > limit) throw new Error(`the app at 0x${address.toString(16)} claims more than ${limit} bytes`);
    if (buf.length >= n) return;
    const want = Math.min(limit - buf.length, Math.ceil((n - buf.length) / SECTOR) * SECTOR);
    buf = Buffer.concat([buf, Buffer.from(await read(address + buf.length, want))]);
  };
  await ensure(HEADER_LEN);
  if (buf[0] !== ESP_IMAGE_MAGIC)
    throw new Error(`no app image at 0x${address.toString(16)} (first byte 0x${buf[0].toString(16)})`);
  const segments = buf[1];
  if (segments === 0 || segments > 16)
    throw new Error(`the app at 0x${address.toString(16)} has ${segments} segments`);
  let offset = HEADER_LEN;
  for (let i = 0; i < segments; i++) {
    await ensure(offset + 8);
    offset += 8 + buf.readUInt32LE(offset + 4);
  }
  const end = offset + (15 - (offset % 16)) + 1 + (buf[23] === 1 ? 32 : 0);
  await ensure(end);
  return buf.subarray(0, end);
}

export interface EspDeviceLinkOptions {
  port: string;
  /** transfer baud once the stub runs */
  baud: number;
  /** the app's protocol baud, for its hello */
  appBaud: number;
  /** the flash size to bound a read-back (4 MB) */
  flashBytes?: number;
  usb?: { vendorId?: number; productId?: number };
  /** gives the port back to the serial driver */
  release?: () => Promise<void>;
  /** a flash step with nothing from the device for this long is abandoned (FLASH_STALL_MS) */
  stallTimeoutMs?: number;
  /** tries of one flash when a try fails in a way another may not (FLASH_TRIES) */
  flashTries?: number;
}

/**
 * Tries of one flash (the update's or the rollback's) before it counts as failed, when the failure is transient
 * (FlashError.transient: a lost sync, a block not answered in time, an MD5 mismatch, a stalled device, the port
 * not yet let go of). Each try starts from esptool's reset, so a hung ROM or stub is restarted; a refusal (wrong
 * chip, a backup that cannot be made) or an unplugged device is not tried again. Bounded: a stalled try ends at
 * FLASH_STALL_MS and every try within flashDeadlineMs.
 */
export const FLASH_TRIES = 3;
const RETRY_PAUSE_MS = 500;

/**
 * The most one try of a flash may take: a last resort behind the stall watch, which ends every hang; so generous
 * that a slow but working device is never cut (five minutes plus ten times the image's serial time). The
 * 100-agent fleet run had it at one minute plus four times: on 2 cores shared by 100 agents and 100 simulated
 * devices, 10 flashes that were still moving were cut at 83 s.
 */
export const flashDeadlineMs = (imageBytes: number, baud: number): number =>
  300_000 + Math.ceil((10 * imageBytes * 10 * 1000) / baud);

/**
 * A device's USB cable for the rollout, through the same flasher as `edge-agent flash` (esptool-js, the image
 * checks against the detected chip, MD5-verified writes): the app only, at 0x10000 — bootloader, partition table
 * and NVS (the device's pairing and consent state) are never written.
 */
export class EspDeviceLink implements DeviceFlashLink {
  private port: SerialPort | null = null;

  constructor(private readonly o: EspDeviceLinkOptions) {}

  /** Flashes `image` as the app, tried again (FLASH_TRIES) when a try fails transiently. */
  async flashApp(image: Buffer, opts: FlashAppOptions): Promise<void> {
    const tries = this.o.flashTries ?? FLASH_TRIES;
    let written = false;
    for (let n = 1; ; n++) {
      try {
        await this.flashOnce(image, opts);
        return;
      } catch (err) {
        if (!(err instanceof FlashError)) throw err;
        written ||= err.written;
        if (err.transient && n < tries) {
          await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
          continue;
        }
        // an earlier try may have written even if this one failed before writing
        throw n === 1 ? err : new FlashError(err.kind, `${err.message} (${n} tries)`, written, false);
      }
    }
  }

  private async flashOnce(image: Buffer, opts: FlashAppOptions): Promise<void> {
    await this.closePort();
    const part = {
      role: 'app' as const,
      file: 'firmware package',
      address: DEFAULT_APP_ADDRESS,
      data: new Uint8Array(image),
      inspection: inspectEspImage(image),
    };
    const plan: FlashPlan = { parts: [part], chip: null, app: part };
    const limit = (this.o.flashBytes ?? 4 * 1024 * 1024) - DEFAULT_APP_ADDRESS;
    const flasher = new EspFlasher((e) => {
      if (e.event === 'progress') opts.onProgress?.(e.percent);
    });
    const outcome = await flasher.flash({
      port: this.o.port,
      baud: this.o.baud,
      plan,
      erase: false,
      force: false,
      usb: this.o.usb,
      stallTimeoutMs: this.o.stallTimeoutMs ?? FLASH_STALL_MS,
      timeoutMs: flashDeadlineMs(image.length, this.o.baud),
      beforeWrite: async (read) => {
        // a read-back the device did not finish is the link's failure (tried again); the caller's checks refuse
        let readFailure: unknown = null;
        const reading = (address: number, size: number): Promise<Uint8Array> =>
          read(address, size).catch((err: unknown) => {
            readFailure = err;
            throw err;
          });
        try {
          await opts.beforeWrite(() => readRunningApp(reading, DEFAULT_APP_ADDRESS, limit));
        } catch (err) {
          if (err === readFailure) throw err;
          throw new FlashError('refused', err instanceof Error ? err.message : String(err), false);
        }
      },
    });
    this.port = outcome.port;
  }

  /** The first hello after the restart, whole (id, fw, model, channels), or null after `timeoutMs`. */
  async waitHello(timeoutMs: number): Promise<HelloBody | null> {
    if (!this.port) return null;
    try {
      const r = await listenForHello(this.port, this.o.appBaud, timeoutMs);
      return r.hello;
    } finally {
      await this.closePort();
    }
  }

  async close(): Promise<void> {
    await this.closePort();
    await this.o.release?.();
  }

  private async closePort(): Promise<void> {
    const p = this.port;
    this.port = null;
    if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
  }
}
