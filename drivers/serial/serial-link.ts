import { SerialPort, type SerialPortMock } from 'serialport';
import { encodeSerialFrame, type GatewayFrame } from '../../firmware-bridge/protocol';
import { DeviceInput } from '../device-input';
import type { FrameSink } from '../types';
import { Backoff } from '../backoff';

/** About 90 ms of line time at 921,600 baud; beyond this the device is not reading. */
const MAX_PENDING_WRITE_BYTES = 8192;

/**
 * Makes the (not yet open) port of a link: the system's by default, serialport's mock binding (SerialPortMock) in
 * the driver contract tests — the binding is an option, as serialport itself injects it.
 */
export type OpenSerialPort = (path: string, baudRate: number) => SerialPort | SerialPortMock;

const systemPort: OpenSerialPort = (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false });

export interface SerialLinkOptions {
  deviceId: string;
  path: string;
  baudRate: number;
  /** a device silent for longer than this shows `connected: false` (heartbeats come every 30 s) */
  silenceTimeoutMs?: number;
  backoff?: Backoff;
  openPort?: OpenSerialPort;
}

/**
 * One USB-UART device: opens the port, feeds bytes through the transports' one decode path (DeviceInput), writes gateway frames,
 * and reopens with backoff after an unplug or a port error — without restarting the agent and without losing
 * anything acked (acks only ever follow a commit).
 */
export class SerialLink {
  private port: SerialPort | SerialPortMock | null = null;
  private readonly input: DeviceInput;
  private retry: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private stopped = true;
  private lastRx = 0;
  /** settles when the port last asked to open has opened or failed */
  private opening: Promise<void> = Promise.resolve();
  private silent = false;
  private readonly backoff: Backoff;
  /** what status shows while the link is down */
  state = 'not opened';
  opens = 0;
  /** acks not written because the device was not draining its receive side (it retransmits; we re-ack) */
  acksSkipped = 0;

  constructor(
    private readonly opts: SerialLinkOptions,
    private readonly sink: FrameSink,
  ) {
    this.backoff = opts.backoff ?? new Backoff();
    this.input = new DeviceInput(opts.deviceId, sink, (frame) => sink.onFrame(opts.deviceId, frame, (reply) => this.send(reply)));
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  start(): void {
    this.stopped = false;
    if (this.watchdog) clearInterval(this.watchdog); // started again after a stop: one watchdog, not two
    this.open();
    const timeout = this.opts.silenceTimeoutMs ?? 90_000;
    this.watchdog = setInterval(() => {
      if (this.isOpen && !this.silent && this.lastRx > 0 && Date.now() - this.lastRx > timeout) {
        this.silent = true;
        this.sink.onLink(this.opts.deviceId, false, `silent for more than ${Math.round(timeout / 1000)} s`);
      }
    }, Math.min(1000, timeout));
    this.watchdog.unref();
  }

  private open(): void {
    if (this.stopped) return;
    const port = (this.opts.openPort ?? systemPort)(this.opts.path, this.opts.baudRate);
    this.port = port;
    let settled = (): void => undefined;
    this.opening = new Promise<void>((resolve) => (settled = resolve));
    port.open((err) => {
      settled();
      if (this.port !== port) return; // stop() let go of it while it opened: stop() closes it
      if (err) {
        const missing = /ENOENT|No such file/.test(err.message);
        this.state = missing ? `port ${this.opts.path} missing (unplugged?)` : `cannot open ${this.opts.path}: ${err.message}`;
        this.sink.onLink(this.opts.deviceId, false, this.state);
        this.port = null;
        this.scheduleReopen();
        return;
      }
      this.opens++;
      this.backoff.reset();
      this.input.restart();
      this.state = 'open';
      this.silent = false;
      this.lastRx = Date.now();
      this.sink.onLink(this.opts.deviceId, true, `open ${this.opts.path} @ ${this.opts.baudRate}`);
    });
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err: Error) => {
      this.state = `port error: ${err.message}`;
    });
    port.on('close', () => {
      if (this.port !== port) return;
      this.port = null;
      if (this.stopped) return;
      this.state = `port ${this.opts.path} closed (unplugged?)`;
      this.sink.onLink(this.opts.deviceId, false, this.state);
      this.scheduleReopen();
    });
  }

  private scheduleReopen(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.open();
    }, this.backoff.next());
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    if (this.silent) {
      this.silent = false;
      this.sink.onLink(this.opts.deviceId, true, `open ${this.opts.path} @ ${this.opts.baudRate}`);
    }
    this.input.stream(chunk);
  }

  send(frame: GatewayFrame): boolean {
    const port = this.port;
    if (!port || !port.isOpen) return false;
    // A device that stops reading (hung firmware, flow control) must not make our write queue grow without
    // bound. Acks are safe to skip: the device retransmits and the duplicate is re-acked once durable.
    // Consent-state and commands are rare and always queued.
    if (frame.type === 'ack' && port.writableLength > MAX_PENDING_WRITE_BYTES) {
      this.acksSkipped++;
      return false;
    }
    port.write(Buffer.from(encodeSerialFrame(frame)));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retry = null;
    const port = this.port;
    this.port = null;
    // A port still opening is closed once it has opened: whoever takes the device next (the flasher, for an
    // update or its rollback) must find it free, not locked by a port nobody holds any more.
    await this.opening;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
