import * as fs from 'node:fs';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { deviceStreamDecoder, encodeSerialFrame, type Frame } from '../../firmware-bridge/protocol';

export interface SerialPortInfo {
  path: string;
  /** stable path under /dev/serial/by-id, when udev made one (recommended in config) */
  byId: string | null;
  vendorId: string | null;
  productId: string | null;
  manufacturer: string | null;
  product: string | null;
  serialNumber: string | null;
}

const read = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};

/**
 * Lists serial ports from sysfs and /dev/serial/by-id (no udevadm needed, which minimal gateway images and
 * containers lack). Only ttys backed by a real device (USB-UART, on-board UART) are listed.
 */
export function listSerialPorts(roots = { sys: '/sys/class/tty', dev: '/dev', byId: '/dev/serial/by-id' }): SerialPortInfo[] {
  const byId = new Map<string, string>();
  try {
    for (const name of fs.readdirSync(roots.byId)) {
      const link = path.join(roots.byId, name);
      byId.set(path.resolve(roots.byId, fs.readlinkSync(link)), link);
    }
  } catch {
    // no by-id directory: no USB serial devices, or no udev
  }
  const out: SerialPortInfo[] = [];
  let ttys: string[] = [];
  try {
    ttys = fs.readdirSync(roots.sys);
  } catch {
    return out;
  }
  for (const tty of ttys.sort()) {
    const devLink = path.join(roots.sys, tty, 'device');
    if (!fs.existsSync(devLink)) continue; // virtual consoles, ptys
    let subsystem = '';
    try {
      subsystem = path.basename(fs.realpathSync(path.join(devLink, 'subsystem')));
    } catch {
      // no subsystem link: keep the port
    }
    if (subsystem === 'platform' && !/^tty(AMA|S0|serial)/.test(tty)) continue; // legacy 8250 placeholders
    // Walk up from the interface to the USB device that carries idVendor/idProduct.
    let dir = fs.realpathSync(devLink);
    let usb: string | null = null;
    for (let i = 0; i < 4 && dir !== '/'; i++) {
      if (fs.existsSync(path.join(dir, 'idVendor'))) {
        usb = dir;
        break;
      }
      dir = path.dirname(dir);
    }
    const dev = path.join(roots.dev, tty);
    out.push({
      path: dev,
      byId: byId.get(dev) ?? null,
      vendorId: usb ? read(path.join(usb, 'idVendor')) : null,
      productId: usb ? read(path.join(usb, 'idProduct')) : null,
      manufacturer: usb ? read(path.join(usb, 'manufacturer')) : null,
      product: usb ? read(path.join(usb, 'product')) : null,
      serialNumber: usb ? read(path.join(usb, 'serial')) : null,
    });
  }
  return out;
}

export interface ProbeResult {
  path: string;
  ok: boolean;
  /** our protocol answered (a valid frame, or the ack to our identify command) */
  speaksProtocol: boolean;
  hello: Extract<Frame, { type: 'hello' }>['body'] | null;
  framesOk: number;
  framesBad: number;
  error: string | null;
}

/**
 * Opens a port, asks the device to identify itself (command 0x82 identify; our firmware acks it and blinks)
 * and listens for `timeoutMs`: reports the hello if one arrives, or at least that valid frames were seen.
 */
export async function probeSerialPort(portPath: string, baudRate: number, timeoutMs = 2000): Promise<ProbeResult> {
  const result: ProbeResult = { path: portPath, ok: false, speaksProtocol: false, hello: null, framesOk: 0, framesBad: 0, error: null };
  const port = new SerialPort({ path: portPath, baudRate, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    return result;
  }
  result.ok = true;
  // On a real USB-UART, pulse EN through RTS so the ESP32 reboots and sends its hello (DTR stays high so
  // GPIO0 is not held low: normal boot, not the ROM bootloader). PTYs have no modem lines: ignore the error.
  await new Promise<void>((resolve) => port.set({ dtr: false, rts: true }, () => resolve()));
  await new Promise<void>((resolve) => setTimeout(resolve, 100));
  await new Promise<void>((resolve) => port.set({ dtr: false, rts: false }, () => resolve()));
  const decoder = deviceStreamDecoder(); // a gateway-only frame type counts as bad, as in the agent
  const IDENTIFY_SEQ = 0xfff0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    port.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        if (!r.ok) {
          result.framesBad++;
          continue;
        }
        result.framesOk++;
        result.speaksProtocol = true;
        if (r.frame.type === 'hello') {
          result.hello = r.frame.body;
          clearTimeout(timer);
          resolve();
        }
      }
    });
    port.write(Buffer.from(encodeSerialFrame({ type: 'command', seq: IDENTIFY_SEQ, body: { c: 'identify' } })));
  });
  await new Promise<void>((resolve) => port.close(() => resolve()));
  return result;
}
