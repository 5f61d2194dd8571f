import { ReadableStream, WritableStream, type ReadableStreamDefaultController } from 'node:stream/web';
import { SerialPort } from 'serialport';

/** The part of the Web Serial `SerialPort` that esptool-js's `Transport` uses. */
export interface WebSerialPortLike {
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  open(options: { baudRate?: number }): Promise<void>;
  close(): Promise<void>;
  setSignals(signals: {
    dataTerminalReady?: boolean;
    requestToSend?: boolean;
    break?: boolean;
  }): Promise<void>;
  getInfo(): { usbVendorId?: number; usbProductId?: number };
  /** esptool-js's BaudRateConfigurablePort extension: change speed without closing the port */
  setBaudRate(baudRate: number): Promise<void>;
}

/** What a port without modem lines (a PTY, a bare UART) answers to TIOCMSET. */
const NO_MODEM_LINES = /Inappropriate ioctl|ENOTTY|EINVAL|not supported/i;
/**
 * What ends esptool-js's read in progress at once, wherever it is in a SLIP packet: an escape byte followed by one
 * no escape may be followed by fails it mid-packet ("Invalid SLIP escape") and before one ("Invalid head").
 */
const READ_BREAKER = Uint8Array.of(0xdb, 0xff);

/** Write errors that mean the tty itself is gone. */
const LINE_GONE = /EIO|i\/o error|EBADF|bad file descriptor|ENXIO|ENODEV|disconnected/i;

/**
 * Gives esptool-js a Web-Serial-shaped port over node `serialport`, so the browser flasher runs unmodified on
 * the gateway. Streams are made fresh on every open (esptool-js closes and reopens during chip detection).
 * DTR/RTS go out together because serialport's `set()` resets any line it is not given.
 */
export class WebSerialPortAdapter implements WebSerialPortLike {
  private port: SerialPort | null = null;
  private readableStream: ReadableStream<Uint8Array> | null = null;
  private writableStream: WritableStream<Uint8Array> | null = null;
  private lines = { dtr: false, rts: false, brk: false };
  private onData: ((chunk: Buffer) => void) | null = null;
  /** rejects every write (and its drain) still in flight on the current port */
  private failPending: ((reason: string) => void) | null = null;
  /** false once a port refused modem-line control: the board cannot be reset by DTR/RTS */
  modemLines: boolean | null = null;
  /** whether the port was ever opened: a port that never opened was not "unplugged" */
  opened = false;
  /** why the port went away while open (unplug), for the error the user sees */
  lostReason: string | null = null;
  /** when the device last sent anything (ms since the epoch; 0: never): the flasher's stall watch */
  lastReceivedAt = 0;
  /** puts one byte in front of esptool-js's reader (see abort) */
  private inject: ((bytes: Uint8Array) => void) | null = null;

  constructor(
    readonly path: string,
    private readonly usb: { vendorId?: number; productId?: number } = {},
  ) {}

  get readable(): ReadableStream<Uint8Array> | null {
    return this.readableStream;
  }

  get writable(): WritableStream<Uint8Array> | null {
    return this.writableStream;
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return { usbVendorId: this.usb.vendorId, usbProductId: this.usb.productId };
  }

  async open(options: { baudRate: number }): Promise<void> {
    if (this.port?.isOpen) throw new Error(`${this.path} is already open`);
    const port = new SerialPort({ path: this.path, baudRate: options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    this.opened = true;
    this.lostReason = null;
    let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
    this.readableStream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      cancel: () => {
        controller = null;
      },
    });
    this.onData = (chunk: Buffer) => {
      this.lastReceivedAt = Date.now();
      controller?.enqueue(new Uint8Array(chunk));
    };
    port.on('data', this.onData);
    this.inject = (bytes) => controller?.enqueue(bytes);
    /** The device went away: remember why and end the read side, so esptool-js stops waiting for it. */
    const lose = (reason: string): void => {
      if (this.port === port) this.lostReason ??= reason;
      try {
        // the read in progress polls what was read so far until its own timeout: end it now (READ_BREAKER)
        controller?.enqueue(READ_BREAKER);
        controller?.error(new Error(this.lostReason ?? reason));
      } catch {
        // already closed or cancelled
      }
      controller = null;
    };
    /**
     * Writes in flight. serialport queues a write or drain issued on a closed port until the next open, so after
     * an unplug their callbacks never come: without this, esptool-js would await them forever, nothing would
     * keep the event loop alive, and the process would end with status 0 in the middle of a flash.
     */
    const inFlight = new Set<(err: Error) => void>();
    const failPending = (reason: string): void => {
      for (const fail of [...inFlight]) fail(new Error(reason));
    };
    this.failPending = failPending;
    // A close we did not ask for is the device going away (serialport passes a disconnect error).
    port.on('close', (err: Error | null) => {
      lose(err ? err.message : `${this.path} was closed`);
      failPending(this.lostReason ?? `${this.path} was closed`);
    });
    port.on('error', (err: Error) => {
      this.lostReason ??= err.message;
    });
    this.writableStream = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (!port.isOpen) {
            reject(new Error(this.lostReason ?? `${this.path} is not open`));
            return;
          }
          const failed = (err: Error): void => {
            if (!inFlight.delete(failed)) return; // settled already
            // A hung-up tty (unplugged USB-UART, PTY whose other end died) fails writes before reads notice.
            if (LINE_GONE.test(err.message)) lose(err.message);
            reject(err);
          };
          const done = (): void => {
            if (inFlight.delete(failed)) resolve();
          };
          inFlight.add(failed);
          port.write(Buffer.from(chunk), (err) => {
            if (err) failed(err);
            // closed meanwhile: a drain now would be queued until a next open that never comes
            else if (!port.isOpen) failed(new Error(this.lostReason ?? `${this.path} was closed`));
            // drain: esptool-js times its reads from here, so the bytes must really be on the line
            else port.drain((e) => (e ? failed(e) : done()));
          });
        }),
    });
  }

  async setSignals(signals: {
    dataTerminalReady?: boolean;
    requestToSend?: boolean;
    break?: boolean;
  }): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.lines.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.lines.rts = signals.requestToSend;
    if (signals.break !== undefined) this.lines.brk = signals.break;
    const port = this.port;
    if (!port?.isOpen || this.modemLines === false) return;
    await new Promise<void>((resolve, reject) =>
      port.set({ dtr: this.lines.dtr, rts: this.lines.rts, brk: this.lines.brk }, (err) => {
        if (!err) {
          this.modemLines = true;
          resolve();
        } else if (NO_MODEM_LINES.test(err.message)) {
          // PTYs and bare UARTs: no auto-reset circuit to drive; the board must already be in download mode.
          this.modemLines = false;
          resolve();
        } else reject(err);
      }),
    );
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) throw new Error(`${this.path} is not open`);
    await new Promise<void>((resolve, reject) =>
      port.update({ baudRate }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Ends the Web Serial view and hands over the still-open port, so the caller can listen to the app that
   * boots after flashing without a close/reopen gap in which its first bytes would be lost.
   */
  detach(): SerialPort {
    const port = this.port;
    if (!port?.isOpen) throw new Error(this.lostReason ?? `${this.path} is not open`);
    if (this.onData) port.removeListener('data', this.onData);
    this.onData = null;
    this.inject = null;
    this.failPending = null;
    this.port = null;
    this.readableStream = null;
    this.writableStream = null;
    return port;
  }

  /**
   * Ends a flash that must not go on (stalled device, caller's abort): esptool-js's reads poll their input until
   * their own timeout (up to 100 s for a read-back, 25 s for a flash block), so bytes no SLIP packet can hold
   * (READ_BREAKER) are put in front of its reader first, which makes the read in progress fail now; then the port
   * is closed, which fails every write still waiting for its drain (a device that stopped reading never drains
   * them).
   */
  async abort(): Promise<void> {
    try {
      this.inject?.(READ_BREAKER);
    } catch {
      // the read side already ended
    }
    // esptool-js's read loop takes the byte on its next turn: give it that turn before the stream errors
    await new Promise((resolve) => setImmediate(resolve));
    await this.close();
  }

  async close(): Promise<void> {
    this.inject = null;
    const port = this.port;
    const failPending = this.failPending;
    this.port = null;
    this.failPending = null;
    this.readableStream = null;
    this.writableStream = null;
    failPending?.(this.lostReason ?? `${this.path} was closed`);
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
