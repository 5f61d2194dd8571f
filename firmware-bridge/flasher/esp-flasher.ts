import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { SerialPort } from 'serialport';
import type { ESPLoader, IEspLoaderTerminal, Transport } from 'esptool-js';
import { importEsm } from '../esm-import';
import { explainFlashFailure, FlashError, halfWrittenNote } from './flash-error';
import { planProblems, refusalMessage, type FlashPlan } from './flash-plan';
import { FlashProgressMeter, type FlashProgress } from './flash-progress';
import { resetThroughRtcWatchdog, supportsRtcWatchdogReset } from './rtc-watchdog-reset';
import { WebSerialPortAdapter } from './web-serial-port-adapter';

type EsptoolModule = typeof import('esptool-js');

/** The ROM bootloader always talks at 115200 after reset; `--baud` only applies once the stub runs. */
export const ROM_BAUD = 115200;

/**
 * A flash with nothing from the device (no answer, no read-back block) and no progress for this long is
 * abandoned and its port closed (FlashRequest.stallTimeoutMs). The longest silence of a working flash is one
 * block's write, well under a second at 460,800 baud (esptool-js's own limit per block is 3 s); the ROM's connect
 * attempts answer or fail within a few seconds.
 */
export const FLASH_STALL_MS = 20_000;

/**
 * How long a flash data block's answer is waited for: past the stall watch (which then speaks first, with its
 * clearer reason), or FLASH_STALL_MS and a little when there is none. Never a reason to send the block again.
 */
export const blockAnswerLimitMs = (stallTimeoutMs: number | undefined): number =>
  (stallTimeoutMs ?? FLASH_STALL_MS) + 5000;

export type FlashStage =
  'connecting' | 'detected' | 'stub' | 'before-write' | 'erasing' | 'writing' | 'verified' | 'resetting' | 'done';

export type FlashEvent =
  | { event: 'stage'; stage: FlashStage; message: string }
  | ({ event: 'progress' } & FlashProgress)
  /** esptool-js's own log lines, for --debug */
  | { event: 'log'; message: string };

export interface FlashRequest {
  port: string;
  /** baud for the data transfer once the stub runs (115200 keeps the ROM speed) */
  baud: number;
  plan: FlashPlan;
  erase: boolean;
  force: boolean;
  usb?: { vendorId?: number; productId?: number };
  /**
   * Called once the stub runs and every check passed, before anything is written, with a reader of the device's
   * flash (the fleet rollout backs up the running app here). A throw refuses the flash with nothing written.
   */
  beforeWrite?: (readFlash: (address: number, size: number) => Promise<Uint8Array>) => Promise<void>;
  /** ends the flash at once: the port is closed and flash() rejects with FlashError 'aborted' */
  signal?: AbortSignal;
  /**
   * The device must send something (an answer, a read-back block) or the flash move on at least this often, else
   * the flash is abandoned as 'stalled' with the port closed. esptool-js bounds its reads (up to 100 s for a
   * read-back) but not its writes: a device that stops reading (a stalled USB endpoint) never drains them.
   */
  stallTimeoutMs?: number;
  /** the whole flash, connect to restart, must end within this (else 'stalled' as above) */
  timeoutMs?: number;
}

export interface FlashOutcome {
  chip: string;
  chipDescription: string;
  mac: string;
  flashSize: string | null;
  parts: Array<{ file: string; address: number; bytes: number; md5: string }>;
  durationMs: number;
  bytesPerSecond: number;
  /** how the device was restarted into the new firmware */
  reset: 'rts' | 'rtc-watchdog' | 'manual';
  /** the port, still open, for listening to the booted app; the caller closes it */
  port: SerialPort;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** flasher_args.json says "esp32s3", esptool-js says "ESP32-S3". */
const sameChip = (a: string, b: string): boolean =>
  a.toLowerCase().replace(/[^a-z0-9]/g, '') === b.toLowerCase().replace(/[^a-z0-9]/g, '');
const FLASH_SIZE_BYTES = (s: string): number => parseInt(s, 10) * (s.endsWith('MB') ? 1024 * 1024 : 1024);

/**
 * Flashes a FlashPlan through esptool-js, unmodified, over a WebSerialPortAdapter: connect and detect the chip,
 * check the images against it (nothing is written before that), upload the stub, optionally raise the baud,
 * write compressed with MD5 verification, and restart the device into the new firmware.
 */
export class EspFlasher {
  private stage: FlashStage = 'connecting';
  /** whether the device's flash may have been changed (erase or write begun) */
  private written = false;
  /** when the flash last moved on (a stage, a progress report): with the bytes received, the stall watch */
  private movedAt = 0;

  constructor(private readonly onEvent: (e: FlashEvent) => void = () => {}) {}

  private enter(stage: FlashStage, message: string): void {
    this.stage = stage;
    this.movedAt = Date.now();
    this.onEvent({ event: 'stage', stage, message });
  }

  /**
   * One flash, ended by whichever comes first: its own end, the caller's abort, or the stall watch. On abort or
   * stall esptool-js is left to unwind on a closed port (its writes fail at once, its read in progress at the next
   * byte, see WebSerialPortAdapter.abort): the port is released now, not when esptool-js notices.
   */
  async flash(req: FlashRequest): Promise<FlashOutcome> {
    const esptool = await importEsm<EsptoolModule>('esptool-js');
    const adapter = new WebSerialPortAdapter(req.port, req.usb);
    this.written = false;
    this.movedAt = Date.now();
    const watch = this.watch(req, adapter);
    const work = this.run(req, esptool, adapter);
    work.catch(() => {}); // after an abort it still ends, unobserved
    try {
      return await Promise.race([work, watch.ended]);
    } catch (err) {
      await (watch.fired() ? adapter.abort() : adapter.close()).catch(() => {});
      throw explainFlashFailure(err, {
        port: req.port,
        adapter,
        written: this.written,
        connecting: this.stage === 'connecting',
        doing: this.doing(),
      });
    } finally {
      watch.clear();
    }
  }

  /** The caller's abort signal, the stall watch and the overall deadline, as one promise that only rejects. */
  private watch(
    req: FlashRequest,
    adapter: WebSerialPortAdapter,
  ): { ended: Promise<never>; fired: () => boolean; clear: () => void } {
    let reject: (e: Error) => void = () => {};
    const ended = new Promise<never>((_, rej) => (reject = rej));
    ended.catch(() => {});
    let fired = false;
    const end = (kind: 'stalled' | 'aborted', why: string): void => {
      if (fired) return;
      fired = true;
      const message = `${why} while ${this.doing()} on ${req.port}: the flash was abandoned and the port closed${halfWrittenNote(this.written)}`;
      reject(new FlashError(kind, message, this.written, kind === 'stalled'));
    };
    const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
    const onAbort = (): void => {
      const r: unknown = req.signal?.reason;
      end('aborted', `stopped (${r instanceof Error ? r.message : typeof r === 'string' ? r : 'aborted'})`);
    };
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const timers: NodeJS.Timeout[] = [];
    const stall = req.stallTimeoutMs;
    // The device went away (unplugged: its port is gone or failed): said now, not when esptool-js's wait for
    // an answer ends (a block's answer is waited for past the stall watch, see blockAnswerLimitMs). The error
    // is explained as any failure is (explainFlashFailure: "the device went away …").
    const lost = (): void => {
      if (fired) return;
      fired = true;
      reject(new Error(adapter.lostReason ?? `${req.port} disappeared`));
    };
    const check = (): void => {
      if (adapter.opened && (adapter.lostReason !== null || !fs.existsSync(req.port))) lost();
      else if (stall !== undefined && Date.now() - Math.max(adapter.lastReceivedAt, this.movedAt) > stall)
        end('stalled', `the device stopped answering (nothing from it for ${seconds(stall)})`);
    };
    timers.push(setInterval(check, stall === undefined ? 1000 : Math.max(50, Math.min(1000, stall / 4))));
    if (req.timeoutMs !== undefined) {
      const limit = req.timeoutMs;
      timers.push(setTimeout(() => end('stalled', `the flash did not finish within ${seconds(limit)}`), limit));
    }
    return {
      ended,
      fired: () => fired,
      clear: () => {
        for (const t of timers) clearTimeout(t);
        req.signal?.removeEventListener('abort', onAbort);
      },
    };
  }

  private async run(req: FlashRequest, esptool: EsptoolModule, adapter: WebSerialPortAdapter): Promise<FlashOutcome> {
    const log = (message: string): void => {
      const m = message.trim();
      if (m) this.onEvent({ event: 'log', message: m });
    };
    // esptool-js's Transport prints its trace lines with console.log even with tracing off; route them to the
    // log instead so --json output stays machine-readable.
    class QuietTransport extends esptool.Transport {
      override trace(message: string): void {
        if (this.tracing) log(message);
      }
    }
    const transport: Transport = new QuietTransport(
      adapter as unknown as ConstructorParameters<EsptoolModule['Transport']>[0],
      false,
    );
    const terminal: IEspLoaderTerminal = { clean: () => {}, writeLine: log, write: log };
    const blockAnswerMs = blockAnswerLimitMs(req.stallTimeoutMs);
    /**
     * esptool-js's loader, except that a flash data block is sent once. esptool-js sends a block again when its
     * answer has not come within 3 s, but the stub acks a block as it arrives and never looks at its sequence
     * number (esptool's flasher_stub), so a block whose answer was only late is taken twice: the deflate stream
     * breaks and the try fails, or worse. (The 100-agent fleet run's "status 1,8": its simulator refused the
     * second copy.) The answer is waited for instead, until the stall watch ends a device that went silent; then
     * the next try starts from a reset, with nothing of this one in the device. A block refused with an error
     * answer ends the try the same way (one attempt per block).
     */
    class OneSendLoader extends esptool.ESPLoader {
      constructor(o: ConstructorParameters<EsptoolModule['ESPLoader']>[0]) {
        super(o);
        this.WRITE_BLOCK_ATTEMPTS = 1;
      }

      override flashDeflBlock(data: Uint8Array, seq: number, timeout: number): Promise<void> {
        return super.flashDeflBlock(data, seq, Math.max(timeout, blockAnswerMs));
      }

      override flashBlock(data: Uint8Array, seq: number, timeout: number): Promise<void> {
        return super.flashBlock(data, seq, Math.max(timeout, blockAnswerMs));
      }
    }
    const loader: ESPLoader = new OneSendLoader({
      transport,
      baudrate: req.baud,
      romBaudrate: ROM_BAUD,
      terminal,
    });
    this.enter('connecting', `connecting to the ROM bootloader on ${req.port}`);
    await loader.detectChip('default_reset');
    const chip = loader.chip.CHIP_NAME;
    const chipDescription = await loader.chip.getChipDescription(loader);
    const mac = await loader.chip.readMac(loader);
    this.enter(
      'detected',
      `${chipDescription}, MAC ${mac}${adapter.modemLines === false ? ' (port has no DTR/RTS: no auto-reset)' : ''}`,
    );

    // Nothing has been written yet: this is the last point where refusing costs nothing.
    if (req.plan.chip && sameChip(req.plan.chip, chip) === false && !req.force) {
      throw new FlashError(
        'refused',
        `refusing to flash: the build is for ${req.plan.chip} (flasher_args.json), but the device is ${chip} — use the build for ${chip}, or pass --force`,
        false,
      );
    }
    const problems = planProblems(req.plan, loader.chip.IMAGE_CHIP_ID ?? undefined);
    if (problems.length > 0 && !req.force) throw new FlashError('refused', refusalMessage(problems), false);

    this.enter('stub', 'uploading the flasher stub');
    await loader.runStub();
    if (req.baud !== ROM_BAUD) await loader.changeBaud();
    const flashSize = (await loader.detectFlashSize()) ?? null;
    if (flashSize) {
      const limit = FLASH_SIZE_BYTES(flashSize);
      const over = req.plan.parts.find((p) => p.address + p.data.length > limit);
      if (over) {
        throw new FlashError(
          'refused',
          `refusing to flash: ${over.file} at ${hex(over.address)} does not fit the device's ${flashSize} flash`,
          false,
        );
      }
    }

    if (req.beforeWrite) {
      this.enter('before-write', 'reading the device before writing');
      await req.beforeWrite((address, size) => loader.readFlash(address, size));
    }

    if (req.erase) this.enter('erasing', 'erasing the whole flash');
    // From here on the old firmware may be gone: a flash-begin erases (the ROM at once, the stub ahead of the
    // writes) before its answer comes, so a device that stops answering to it may already be half-erased.
    this.written = true;
    const meter = new FlashProgressMeter(req.plan.parts.map((p) => p.data.length));
    const started = Date.now();
    const md5s: string[] = [];
    let writingPart = -1;
    await loader.writeFlash({
      fileArray: req.plan.parts.map((p) => ({ data: p.data, address: p.address })),
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: req.erase,
      compress: true,
      reportProgress: (index, sent, total) => {
        if (index !== writingPart) {
          writingPart = index;
          const part = req.plan.parts[index];
          this.enter('writing', `writing ${part.file} (${part.data.length} bytes) at ${hex(part.address)}`);
        }
        this.movedAt = Date.now();
        this.onEvent({ event: 'progress', ...meter.update(index, sent, total) });
      },
      calculateMD5Hash: (image) => {
        const md5 = createHash('md5').update(image).digest('hex');
        md5s.push(md5);
        return md5;
      },
    });
    const durationMs = Date.now() - started;
    this.enter(
      'verified',
      `MD5 verified for ${req.plan.parts.length} part${req.plan.parts.length === 1 ? '' : 's'}`,
    );

    const reset = await this.restart(loader, transport, adapter, chip);
    const port = adapter.detach();
    this.enter('done', 'flashed');
    return {
      chip,
      chipDescription,
      mac,
      flashSize,
      parts: req.plan.parts.map((p, i) => ({
        file: p.file,
        address: p.address,
        bytes: p.data.length,
        md5: md5s[i],
      })),
      durationMs,
      bytesPerSecond: durationMs > 0 ? Math.round((meter.total * 1000) / durationMs) : 0,
      reset,
      port,
    };
  }

  /**
   * Boots the new firmware. esptool-js's own hard reset only releases RTS (it assumes RTS is still asserted),
   * so the EN pulse is done here: RTS high holds EN low, then release. Without modem lines an ESP32 is reset
   * from inside through its RTC watchdog; other chips need the technician's finger on EN.
   */
  private async restart(
    loader: ESPLoader,
    transport: Transport,
    adapter: WebSerialPortAdapter,
    chip: string,
  ): Promise<FlashOutcome['reset']> {
    this.enter('resetting', 'restarting the device into the new firmware');
    if (adapter.modemLines !== false) {
      await transport.setSignals(false, true);
      await sleep(100);
      await transport.setSignals(false, false);
      if (adapter.modemLines === true) return 'rts';
    }
    if (supportsRtcWatchdogReset(chip)) {
      await resetThroughRtcWatchdog(loader, chip);
      return 'rtc-watchdog';
    }
    return 'manual';
  }

  private doing(): string {
    const words: Record<FlashStage, string> = {
      connecting: 'connecting',
      detected: 'checking the images',
      stub: 'starting the flasher stub',
      'before-write': 'reading the device before writing',
      erasing: 'erasing',
      writing: 'writing',
      verified: 'verifying',
      resetting: 'restarting the device',
      done: 'finishing',
    };
    return words[this.stage];
  }
}
