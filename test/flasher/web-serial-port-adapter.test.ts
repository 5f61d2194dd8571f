import { SerialPort } from 'serialport';
import { WebSerialPortAdapter } from '../../firmware-bridge/flasher/web-serial-port-adapter';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';
import { waitUntil } from '../support/wait-until';

const openPort = async (path: string): Promise<SerialPort> => {
  const p = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => p.open((e) => (e ? reject(e) : resolve())));
  return p;
};
const received = (p: SerialPort, n: number): Promise<Buffer> =>
  new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const on = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) {
        p.removeListener('data', on);
        resolve(buf);
      }
    };
    p.on('data', on);
  });

(hasSocat ? describe : describe.skip)('WebSerialPortAdapter on a PTY pair', () => {
  let device: SerialPort;
  const t = ptyPerTest({
    setUp: async ({ pty }) => {
      device = await openPort(pty.device);
    },
    tearDown: async () => {
      if (device.isOpen) await new Promise<void>((r) => device.close(() => r()));
    },
  });

  it('carries bytes both ways through WHATWG streams, like Web Serial', async () => {
    const port = new WebSerialPortAdapter(t.pty.gateway, { vendorId: 0x10c4, productId: 0xea60 });
    expect(port.readable).toBeNull();
    await port.open({ baudRate: 115200 });
    expect(port.getInfo()).toEqual({ usbVendorId: 0x10c4, usbProductId: 0xea60 });
    const writer = port.writable!.getWriter();
    const got = received(device, 5);
    await writer.write(new Uint8Array([0xc0, 1, 2, 3, 0xc0]));
    writer.releaseLock();
    expect([...(await got)]).toEqual([0xc0, 1, 2, 3, 0xc0]);
    const reader = port.readable!.getReader();
    device.write(Buffer.from('OHAI'));
    let text = '';
    while (text.length < 4) text += Buffer.from((await reader.read()).value!).toString();
    expect(text).toBe('OHAI');
    reader.releaseLock();
    await port.setBaudRate(921600);
    await port.close();
    expect(port.isOpen).toBe(false);
    // esptool-js reopens during detection: fresh streams each time
    await port.open({ baudRate: 115200 });
    expect(port.readable!.locked).toBe(false);
    await port.close();
  });

  it('tolerates a port without modem lines: setSignals resolves and says so', async () => {
    const port = new WebSerialPortAdapter(t.pty.gateway);
    await port.open({ baudRate: 115200 });
    expect(port.modemLines).toBeNull();
    await expect(port.setSignals({ dataTerminalReady: false, requestToSend: true })).resolves.toBeUndefined();
    expect(port.modemLines).toBe(false);
    await expect(port.setSignals({ requestToSend: false })).resolves.toBeUndefined();
    expect(port.getInfo()).toEqual({ usbVendorId: undefined, usbProductId: undefined });
    await port.close();
  });

  it('hands over the open port with detach, without losing bytes sent after it', async () => {
    const port = new WebSerialPortAdapter(t.pty.gateway);
    await port.open({ baudRate: 115200 });
    const raw = port.detach();
    expect(port.readable).toBeNull();
    const got = received(raw, 3);
    device.write(Buffer.from([7, 8, 9]));
    expect([...(await got)]).toEqual([7, 8, 9]);
    await new Promise<void>((r) => raw.close(() => r()));
  });

  it('an unplug ends the read in progress with bytes no SLIP packet holds, errors the stream and leaves the reason', async () => {
    const port = new WebSerialPortAdapter(t.pty.gateway);
    await port.open({ baudRate: 115200 });
    const reader = port.readable!.getReader();
    // esptool-js polls what its reader loop collected: 0xdb 0xff fails its read at once, wherever in a packet
    const read = (async (): Promise<string> => {
      const got: number[] = [];
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) return `done after [${got.join(',')}]`;
          got.push(...r.value);
        }
      } catch (e) {
        return `rejected after [${got.join(',')}]: ${(e as Error).message}`;
      }
    })();
    await t.pty.stop();
    // serialport does not always see a PTY hang up on the read side; the next write does (EIO) and ends it.
    const writer = port.writable!.getWriter();
    await expect(writer.write(new Uint8Array([1]))).rejects.toThrow();
    expect(await read).toMatch(/^rejected after \[219,255\]: /);
    expect(port.lostReason).toMatch(/i\/o error|bad file descriptor/i);
    await port.close();
  });

  /** Follows a promise from the start; `settled()` waits (bounded) and says how it ended, or 'pending'. */
  const follow = (p: Promise<unknown>): { settled: () => Promise<string> } => {
    let state = 'pending';
    p.then(
      () => (state = 'resolved'),
      (e: Error) => (state = `rejected: ${e.message}`),
    );
    return {
      settled: async () => {
        await waitUntil('the write to settle', () => state !== 'pending', 5000).catch(() => {});
        return state;
      },
    };
  };
  /** An open adapter and a writer on it; the stream errors with a failed write (asserted through the write). */
  const openWriter = async (): Promise<{ port: WebSerialPortAdapter; writer: WritableStreamDefaultWriter<Uint8Array> }> => {
    const port = new WebSerialPortAdapter(t.pty.gateway);
    await port.open({ baudRate: 115200 });
    const writer = port.writable!.getWriter();
    writer.closed.catch(() => {});
    writer.ready.catch(() => {});
    return { port, writer };
  };
  // A write big enough to be in flight (the far end reads nothing, so drain cannot finish) when the port goes.
  const big = new Uint8Array(4 * 1024 * 1024).fill(0x55);

  it('rejects a write whose port closes between the write and its drain (the unplug that ended flashes with exit 0)', async () => {
    const { port, writer } = await openWriter();
    // The cable goes right after the bytes left: serialport would queue the drain until a next open.
    const write = jest.spyOn(SerialPort.prototype, 'write');
    const original = write.getMockImplementation() ?? SerialPort.prototype.write;
    write.mockImplementation(function (this: SerialPort, data: unknown, cb?: unknown) {
      return original.call(this, data, (err?: Error | null) => {
        void this.close();
        (cb as (e?: Error | null) => void)(err);
      });
    } as typeof SerialPort.prototype.write);
    try {
      expect(await follow(writer.write(new Uint8Array([0xc0, 0xc0]))).settled()).toMatch(/^rejected: .*closed/);
    } finally {
      write.mockRestore();
    }
    await port.close();
  });

  it('rejects a write still in flight when the adapter is closed', async () => {
    const { port, writer } = await openWriter();
    const write = follow(writer.write(big));
    await port.close();
    expect(await write.settled()).toMatch(/^rejected: /);
  });

  it('rejects a write still in flight when the device is unplugged', async () => {
    const { port, writer } = await openWriter();
    const write = follow(writer.write(big));
    await new Promise<void>((r) => device.close(() => r()));
    await t.pty.stop();
    expect(await write.settled()).toMatch(/^rejected: /);
    // and the next write fails at once rather than being queued for a reopen that never comes
    expect(await follow(writer.write(new Uint8Array([1]))).settled()).toMatch(/^rejected: /);
    await port.close();
  });
});
