import { createHash } from 'node:crypto';
import { SerialPort } from 'serialport';
import { SimDevice, serialBootBytes } from '../../../drivers/sim';
import { encodeFrame, encodeSerialFrame, gatewayStreamDecoder, type ChannelInfo, type FrameDecoder, type GatewayFrame } from '../../../firmware-bridge/protocol';
import { CHIPS, RTC_WDT_WKEY, SPI_CMD_USR, type ChipProfile, type SimChip } from './esp-chips';
import { APP_OFFSET, appVersionIn, eraseSectors } from './esp-flash-memory';
import {
  ERR_BAD_CHECKSUM,
  ERR_INVALID_MESSAGE,
  ERR_NOT_IN_FLASH_MODE,
  FLASH_WRITE_OPS,
  OP,
  responsePacket,
  romChecksum,
} from './esp-rom-protocol';
import { FlashReadStream } from './flash-read-stream';
import { FlashWriteSession } from './flash-write-session';
import { SlipDecoder, slipEncode } from './slip';

/** the firmware's hello repeat (examples/kitchen_scale: HELLO_RETRY_MS) */
const HELLO_RETRY_MS = 5000;

export interface Esp32RomSimOptions {
  /** which chip's ROM it is (ESP32) */
  chip?: SimChip;
  /** flash size in bytes (4 MiB) */
  flashSize?: number;
  mac?: readonly number[];
  /** what the app says in its hello once it boots: `fw` is read from the app descriptor in flash */
  app?: { id: string; model: string; ch: ChannelInfo[] };
  /** a flash address whose byte is stored flipped: the MD5 read back no longer matches */
  corruptByteAt?: number;
  /** called after each flash data block is written (tests unplug the device from here) */
  onFlashBlock?: (seq: number) => void;
  /** called when a command arrives, before it is handled: `nth` counts that opcode from 0 (unplug tests) */
  onCommand?: (op: number, nth: number) => void;
  /**
   * Model the DTR/RTS auto-reset circuit of a USB-UART bridge, which a PTY cannot carry: a running app that
   * receives esptool's SYNC is put back into the ROM bootloader, as esptool's reset sequence would do.
   */
  autoReset?: boolean;
  /** app versions that boot but never say hello (a bad build: crash loop, wrong baud) */
  silentVersions?: readonly string[];
  /**
   * The booted app runs the simulated firmware (drivers/sim SimDevice, a kitchen scale that samples nothing on
   * its own): its hello declares `cap: ["update"]`, it reads the gateway's frames, acks commands, keeps the
   * pending update it is told of, and its button sends firmware-choice frames (`app` then gives only the id).
   */
  firmwareApp?: boolean;
  /**
   * How long the answer to a command reaches the host late (ms; 0 or nothing: at once), asked per command as
   * onCommand is: a device slow once (a starved host's USB stack, a busy hub, a simulator on a loaded machine).
   * The command is taken at once (the stub acks a data block before it writes it); everything the device sends
   * after a held answer comes out behind it, in order, as on a wire.
   */
  answerDelayMs?: (op: number, nth: number) => number;
}

type Mode = 'rom' | 'stub' | 'app';

/**
 * An ESP32 in its serial ROM bootloader, on the device end of a PTY, answering esptool-js the way the chip and
 * esptool's flasher stub do: SLIP packets, SYNC, register reads for chip detection, RAM download of the stub
 * and its "OHAI", then the stub's compressed flash writes into an in-memory flash, MD5 and baud changes.
 * A PTY has no DTR/RTS, so it starts in download mode (like a board whose BOOT button is held) and boots the
 * app when the RTC watchdog it was told to arm fires: ROM boot log, then our protocol's hello.
 */
export class Esp32RomSimulator {
  readonly flash: Uint8Array;
  mode: Mode = 'rom';
  /** every opcode received, in order */
  readonly ops: number[] = [];
  boots = 0;
  /** anything but esptool arrived since the app booted (the firmware's hello repeats until then) */
  private gatewayAnswered = false;
  /** wedged (see hang): nothing is answered until a reset */
  hung = false;
  /** times hang() was called */
  hangs = 0;
  /** flash data blocks that arrived again with a sequence number the stub had already taken (a host's resend) */
  blocksTakenTwice = 0;
  /** output held back by answerDelayMs until heldUntil (ms since the epoch), in order */
  private held: Buffer[] = [];
  private heldUntil = 0;
  private releaseTimer: NodeJS.Timeout | null = null;
  private port: SerialPort | null = null;
  private slip = new SlipDecoder();
  private readonly regs = new Map<number, number>();
  private session: FlashWriteSession | null = null;
  private reading: FlashReadStream | null = null;
  /** the armed RTC watchdog and the app's delayed hello: a replug (power cycle) cancels both */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly opts: Required<Pick<Esp32RomSimOptions, 'flashSize' | 'mac' | 'app'>> & Esp32RomSimOptions;
  private readonly chip: ChipProfile;
  /** the running app's firmware (firmwareApp), new at every boot; null while the ROM or the stub runs */
  app: SimDevice | null = null;
  private appDecoder: FrameDecoder<GatewayFrame> = gatewayStreamDecoder();

  constructor(opts: Esp32RomSimOptions = {}) {
    this.opts = {
      flashSize: 4 * 1024 * 1024,
      mac: [0x24, 0x6f, 0x28, 0xaa, 0xbb, 0xcc],
      app: { id: 'scale-7', model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }] },
      ...opts,
    };
    this.chip = CHIPS[opts.chip ?? 'ESP32'];
    this.flash = new Uint8Array(this.opts.flashSize).fill(0xff);
    this.resetRegisters();
  }

  /** Plugs the simulated board into `path` (the device end of a PTY pair), in download mode. */
  async attach(path: string): Promise<void> {
    this.cancelTimers();
    this.dropHeldOutput(); // a replug: what was on its way to the host is lost with the cable
    this.mode = 'rom';
    this.session = null;
    this.slip = new SlipDecoder();
    this.resetRegisters();
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => {});
    port.on('close', () => {
      if (this.port === port) this.port = null;
    });
    this.port = port;
  }

  /**
   * The chip wedges where it is (a crashed stub, a brown-out): it answers nothing until it is reset — by esptool's
   * DTR/RTS reset before its SYNC (with autoReset: the SYNC is what a PTY shows of it) or by powerOn(). For
   * `stuckMs` it does not even read the port, like a USB device whose endpoint stalled: the host's writes stop
   * draining, which no read timeout of esptool-js notices.
   */
  hang(stuckMs = 0): void {
    this.cancelTimers();
    this.hung = true;
    this.hangs++;
    this.reading = null;
    const port = this.port;
    if (stuckMs > 0 && port) {
      port.pause();
      this.later(stuckMs, () => port.resume());
    }
  }

  /** Powers the plugged-in board on with its BOOT button released: it boots its app from flash (hello). */
  powerOn(): void {
    this.resetIntoRom();
    this.boot('rst:0x1 (POWERON_RESET)');
  }

  async detach(): Promise<void> {
    this.cancelTimers();
    this.dropHeldOutput();
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** What esptool's DTR/RTS reset sequence does to a chip: ROM bootloader, nothing of the last session left. */
  private resetIntoRom(): void {
    this.cancelTimers();
    this.hung = false;
    if (this.port?.isPaused()) this.port.resume();
    this.mode = 'rom';
    this.session = null;
    this.reading = null;
    this.app = null;
    this.slip = new SlipDecoder();
    this.resetRegisters();
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Whether anything was ever written or erased: a refused flash must leave this false. */
  get flashTouched(): boolean {
    return this.ops.some((op) => FLASH_WRITE_OPS.has(op));
  }

  private resetRegisters(): void {
    this.regs.clear();
    for (const [addr, value] of this.chip.identity(this.opts.mac)) this.regs.set(addr, value);
  }

  private write(bytes: Uint8Array): void {
    if (this.held.length > 0 || Date.now() < this.heldUntil) {
      this.held.push(Buffer.from(bytes));
      return;
    }
    if (this.port?.isOpen) this.port.write(Buffer.from(bytes));
  }

  /** From now, what the device sends reaches the host only `ms` later (answerDelayMs). */
  private holdOutput(ms: number): void {
    this.heldUntil = Math.max(this.heldUntil, Date.now() + ms);
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    const release = (): void => {
      const wait = this.heldUntil - Date.now();
      if (wait > 0) {
        this.releaseTimer = setTimeout(release, wait);
        return;
      }
      this.releaseTimer = null;
      const out = Buffer.concat(this.held);
      this.held = [];
      if (out.length > 0 && this.port?.isOpen) this.port.write(out);
    };
    this.releaseTimer = setTimeout(release, ms);
  }

  private dropHeldOutput(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.held = [];
    this.heldUntil = 0;
  }

  /** Response: direction 1, op, data length, value, data, then status (4 bytes from the ROM, 2 from the stub). */
  private respond(op: number, value = 0, data: Uint8Array = new Uint8Array(0), error = 0, respOp = op): void {
    const status = this.mode === 'rom' ? [error ? 1 : 0, error, 0, 0] : [error ? 1 : 0, error];
    this.write(slipEncode(responsePacket(respOp, value, data, status)));
  }

  private onData(chunk: Buffer): void {
    if (this.hung) {
      if (!this.opts.autoReset || !chunk.includes(Buffer.from([0xc0, 0x00, OP.SYNC]))) return;
      this.resetIntoRom(); // esptool's reset came with this SYNC: the chip runs again, in its ROM
    }
    if (this.mode === 'app') {
      // the app does not speak SLIP; with the auto-reset circuit, esptool's SYNC means it reset us into ROM
      if (!this.opts.autoReset || !chunk.includes(Buffer.from([0xc0, 0x00, OP.SYNC]))) {
        this.gatewayAnswered = true; // the gateway's consent-state: the hello stops repeating
        this.appReads(chunk);
        return;
      }
      this.resetIntoRom();
    }
    for (const pkt of this.slip.push(chunk)) {
      if (this.hung) return;
      if (this.reading && pkt.length === 4) {
        if (this.reading.ack(Buffer.from(pkt).readUInt32LE(0))) this.reading = null;
        continue;
      }
      if (pkt.length < 8 || pkt[0] !== 0x00) continue;
      const view = Buffer.from(pkt);
      const op = view[1];
      const size = view.readUInt16LE(2);
      const chk = view.readUInt32LE(4);
      const data = view.subarray(8, 8 + size);
      const nth = this.ops.filter((o) => o === op).length;
      this.ops.push(op);
      this.opts.onCommand?.(op, nth);
      if (!this.port || this.hung) return; // unplugged or wedged by the hook: the command is never answered
      const late = this.opts.answerDelayMs?.(op, nth) ?? 0;
      if (late > 0) this.holdOutput(late);
      this.command(op, data, chk);
    }
  }

  private command(op: number, data: Buffer, chk: number): void {
    const u32 = (i: number): number => data.readUInt32LE(i * 4);
    switch (op) {
      case OP.SYNC:
        // esptool resets the chip before every SYNC: with the reset circuit, a stub left running by a killed
        // flasher is back in the ROM bootloader.
        if (this.mode === 'stub' && this.opts.autoReset) this.resetIntoRom();
        // The ROM answers a SYNC eight times with a non-zero value; the stub once with 0.
        if (this.mode === 'rom') for (let i = 0; i < 8; i++) this.respond(op, 0x20120707);
        else this.respond(op, 0);
        return;
      case OP.READ_REG:
        this.respond(op, this.regs.get(u32(0)) ?? 0);
        return;
      case OP.GET_SECURITY_INFO: {
        const id = this.chip.securityChipId;
        if (id === null) break; // the ESP32 ROM does not know it: esptool-js falls back to the magic register
        // flags, flash crypt count, 7 key purposes, chip id, API version (20 bytes, ESP32-S3 and later layout)
        const info = Buffer.alloc(20);
        info.writeUInt32LE(id, 12);
        this.respond(op, 0, info);
        return;
      }
      case OP.WRITE_REG:
        for (let i = 0; i + 16 <= data.length; i += 16)
          this.writeReg(data.readUInt32LE(i), data.readUInt32LE(i + 4), data.readUInt32LE(i + 8));
        this.respond(op);
        return;
      case OP.MEM_BEGIN:
      case OP.SPI_SET_PARAMS:
      case OP.SPI_ATTACH:
      case OP.CHANGE_BAUDRATE:
        this.respond(op);
        return;
      case OP.MEM_DATA:
        this.respond(op, 0, undefined, romChecksum(data.subarray(16)) === chk ? 0 : ERR_BAD_CHECKSUM);
        return;
      case OP.MEM_END:
        this.respond(op);
        if (this.mode === 'rom') {
          // The uploaded stub starts and greets with "OHAI" in a SLIP packet of its own.
          this.mode = 'stub';
          this.write(slipEncode(Buffer.from('OHAI')));
        }
        return;
      default:
        if (this.mode === 'stub') {
          this.stubCommand(op, data, chk);
          return;
        }
    }
    // The ROM answers what it does not know with "invalid message" under another opcode.
    this.respond(op, 0, undefined, ERR_INVALID_MESSAGE, 0x00);
  }

  private stubCommand(op: number, data: Buffer, chk: number): void {
    const u32 = (i: number): number => data.readUInt32LE(i * 4);
    switch (op) {
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN: {
        const [size, offset] = [u32(0), u32(3)];
        const compressed = op === OP.FLASH_DEFL_BEGIN;
        this.session = new FlashWriteSession(this.flash, offset, size, compressed, this.opts.corruptByteAt);
        this.respond(op);
        return;
      }
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA: {
        const [len, seq] = [u32(0), u32(1)];
        const session = this.session;
        if (session?.taken(seq)) this.blocksTakenTwice++;
        const error = session?.write(seq, data.subarray(16, 16 + len), chk) ?? ERR_NOT_IN_FLASH_MODE;
        this.respond(op, 0, undefined, error);
        if (error === 0) this.opts.onFlashBlock?.(seq);
        return;
      }
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END:
        this.session = null;
        this.respond(op);
        if (data.length >= 4 && u32(0) === 0) this.boot('rst:0x1 (POWERON_RESET)');
        return;
      case OP.SPI_FLASH_MD5: {
        const [addr, size] = [u32(0), u32(1)];
        this.respond(
          op,
          0,
          createHash('md5')
            .update(this.flash.subarray(addr, addr + size))
            .digest(),
        );
        return;
      }
      case OP.ERASE_FLASH:
        this.flash.fill(0xff);
        this.respond(op);
        return;
      case OP.ERASE_REGION:
        eraseSectors(this.flash, u32(0), u32(1));
        this.respond(op);
        return;
      case OP.READ_FLASH: {
        // The stub's read: answer, then stream the blocks (FlashReadStream).
        const [address, size, blockSize, maxInFlight] = [u32(0), u32(1), u32(2), u32(3)];
        this.respond(op);
        this.reading = new FlashReadStream(this.flash, { address, size, blockSize, maxInFlight }, (b) => this.write(b));
        this.reading.send();
        return;
      }
      default:
        this.respond(op, 0, undefined, ERR_INVALID_MESSAGE, 0x00);
    }
  }

  private writeReg(addr: number, value: number, mask: number): void {
    const old = this.regs.get(addr) ?? 0;
    const next = ((old & ~mask) | (value & mask)) >>> 0;
    this.regs.set(addr, next);
    const { spi, rtcWdt } = this.chip;
    if (addr === spi.base && next & SPI_CMD_USR) {
      // The SPI user command completes at once; RDID (0x9F) answers a 4 MB Winbond part.
      if (((this.regs.get(spi.usr2) ?? 0) & 0xff) === 0x9f) this.regs.set(spi.w0, 0x1640ef);
      this.regs.set(spi.base, next & ~SPI_CMD_USR);
    }
    if (addr === rtcWdt.config0 && next >>> 31 === 1 && this.regs.get(rtcWdt.wprotect) === RTC_WDT_WKEY) {
      const stage0Action = (next >>> 28) & 0x7;
      if (stage0Action === 3 || stage0Action === 4) {
        const cycles = this.regs.get(rtcWdt.config1) ?? 0;
        this.later(Math.max(1, cycles / 150), () => this.boot('rst:0x10 (RTCWDT_RTC_RESET)'));
      }
    }
  }

  /** Boots from flash: the ROM's boot log at 115200, then, if an app is there, its protocol hello. */
  private boot(reason: string): void {
    this.mode = 'app';
    this.boots++;
    this.session = null;
    this.write(Buffer.from(this.chip.bootLog(reason)));
    const fw = this.appVersion();
    if (fw === null) {
      this.write(
        Buffer.from(`E (42) esp_image: image at 0x${APP_OFFSET.toString(16)} has invalid magic byte\r\n`),
      );
      return;
    }
    if (this.opts.silentVersions?.includes(fw)) return;
    if (this.opts.firmwareApp) {
      this.app = new SimDevice({ id: this.opts.app.id, model: this.opts.app.model, fw, kind: 'kitchen-scale', ratePerMin: 0 });
      this.appDecoder = gatewayStreamDecoder();
    }
    const hello = this.app
      ? this.app.hello()
      : encodeFrame({ type: 'hello', seq: 0, body: { id: this.opts.app.id, fw, model: this.opts.app.model, ch: this.opts.app.ch } });
    // Exactly what the firmware writes after boot (its session starts with a delimiter that ends the boot log).
    this.later(20, () => this.write(serialBootBytes(hello)));
    // As the firmware does (HELLO_RETRY_MS): repeated every 5 s until the gateway answers; a hello sent while
    // nobody listened (a busy host still closing the flasher's session) is not the last word.
    this.gatewayAnswered = false;
    const repeat = (): void => {
      if (this.mode !== 'app' || this.gatewayAnswered) return;
      this.write(serialBootBytes(hello)); // (a leading delimiter is an empty frame: skipped by the reader)
      this.later(HELLO_RETRY_MS, repeat);
    };
    this.later(HELLO_RETRY_MS, repeat);
  }

  /** The app (firmwareApp) handles what the gateway sent it: acks release its frames, commands are acked. */
  private appReads(chunk: Buffer): void {
    const app = this.app;
    if (!app) return;
    for (const r of this.appDecoder.push(chunk)) {
      if (!r.ok) continue;
      const answers = app.onGatewayFrame(r.frame);
      if (answers.length > 0) this.write(Buffer.concat(answers.map((f) => encodeSerialFrame(f))));
    }
  }

  /** The button of the running app (firmwareApp): the household's say on the pending update (0x06). */
  pressFirmwareChoice(d: 'defer' | 'never' | 'allow', h?: number): void {
    if (!this.app) throw new Error('no firmware app is running (firmwareApp, booted)');
    this.write(encodeSerialFrame(this.app.pressFirmwareChoice(d, h)));
  }

  /** Bytes from the running app as they are (a frame its codec would not build: tests of the gateway's checks). */
  writeFromApp(bytes: Uint8Array): void {
    if (this.mode !== 'app') throw new Error('no app is running');
    this.write(bytes);
  }

  /** The version string of the app descriptor of the image at the factory app offset, or null when no app. */
  appVersion(): string | null {
    return appVersionIn(this.flash);
  }
}
