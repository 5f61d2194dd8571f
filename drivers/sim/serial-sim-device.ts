import { SerialPort } from 'serialport';
import { cobsEncode, encodeSerialFrame, gatewayStreamDecoder, type DeviceFrame, type GatewayFrame } from '../../firmware-bridge/protocol';
import { SimDevice, type SimDeviceSpec } from './sim-device';
import { seededRandom } from './sim-driver';
import { DEFAULT_BAUD } from '../serial/baud';

/**
 * What our firmware writes first after a boot, given its hello frame: a lone 0x00 delimiter (ending whatever the
 * UART carried before, e.g. the ROM boot log) and then the COBS-encoded hello with its own 0x00 — byte for byte
 * what edge_session (firmware-bridge/firmware) writes, so a simulator cannot hide a firmware that forgets it.
 */
export function serialBootBytes(hello: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x00]), cobsEncode(hello), Buffer.from([0x00])]);
}

/**
 * A simulated ESP32 on the far end of a serial line (a PTY in tests, or a USB-UART loopback): it writes real
 * wire bytes, reads and obeys gateway frames (acks stop retransmission, consent-state stops sampling), and can
 * inject raw bytes to test the gateway's resynchronisation.
 */
export class SerialSimDevice {
  readonly device: SimDevice;
  private port: SerialPort | null = null;
  private readonly decoder = gatewayStreamDecoder();
  private timer: NodeJS.Timeout | null = null;
  readonly received: GatewayFrame[] = [];
  /** the port's last error (a write that failed because the port closed under it) */
  lastError: Error | null = null;

  constructor(
    private readonly path: string,
    spec: SimDeviceSpec,
    private readonly opts: { baudRate?: number; tickMs?: number; seed?: number; autoSample?: boolean } = {},
  ) {
    this.device = new SimDevice(spec, seededRandom(opts.seed ?? 7));
  }

  async open(sendHello = true): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.opts.baudRate ?? DEFAULT_BAUD, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    // A write still queued when the port closes fails (EBADF), as unplugging a device mid-write would: kept here
    // for whoever asks, never an unhandled 'error' that takes down the process running the simulator.
    port.on('error', (err: Error) => (this.lastError = err));
    port.on('data', (chunk: Buffer) => {
      for (const r of this.decoder.push(chunk)) {
        if (!r.ok) continue;
        const f = r.frame;
        this.received.push(f);
        const answers = this.device.onGatewayFrame(f);
        if (answers.length) this.sendFrames(answers);
        // the firmware acks a reboot command, then restarts and greets like after any boot
        if (this.device.takeReboot()) {
          this.device.reboot();
          this.write(serialBootBytes(this.device.hello()));
        }
      }
    });
    if (sendHello) this.write(serialBootBytes(this.device.hello()));
    if (this.opts.autoSample !== false) {
      this.timer = setInterval(() => {
        const frames = this.device.next(Date.now());
        if (frames.length) this.sendFrames(frames);
      }, this.opts.tickMs ?? 50);
    }
  }

  sendFrames(frames: DeviceFrame[]): void {
    this.write(Buffer.concat(frames.map((f) => encodeSerialFrame(f))));
  }

  write(bytes: Uint8Array): void {
    this.port?.write(Buffer.from(bytes));
  }

  /** Waits until the gateway has acked every frame this device sent. */
  async drained(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.device.unacked().length > 0) {
      if (Date.now() > deadline) throw new Error(`${this.device.unacked().length} frames never acked`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
