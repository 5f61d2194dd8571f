import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { freePort } from '../support/free-port';
import { TcpProxy } from '../support/tcp-proxy';

/** The shaped link the OTA bench measures downloads through (docs/firmware-updates.md §9): bytes in order, no faster than set. */
describe('TcpProxy shaped like a home uplink', () => {
  it('delivers every byte in order, and never faster than bytesPerSecond', async () => {
    const sinkPort = await freePort();
    const received: Buffer[] = [];
    let gotAll: () => void = () => {};
    const all = new Promise<void>((r) => (gotAll = r));
    const data = randomBytes(2 * 1024 * 1024);
    let total = 0;
    const sink = net.createServer((s) =>
      s.on('data', (d: Buffer) => {
        // a busy event loop, as in the bench: timers then fire late by varying amounts
        for (const until = performance.now() + Math.random() * 3; performance.now() < until; );
        received.push(d);
        total += d.length;
        if (total >= data.length) gotAll();
      }),
    );
    await new Promise<void>((r) => sink.listen(sinkPort, '127.0.0.1', () => r()));
    const proxy = Object.assign(new TcpProxy(await freePort(), sinkPort), { bytesPerSecond: 8_000_000, latencyMs: 5 });
    await proxy.open();
    try {
      const client = net.connect(proxy.port, '127.0.0.1');
      await new Promise<void>((r) => client.once('connect', () => r()));
      const t0 = performance.now();
      // many small writes, as MQTT packets are: each becomes its own chunk somewhere along the path
      for (let off = 0; off < data.length; off += 3000) client.write(data.subarray(off, off + 3000));
      await all;
      const ms = performance.now() - t0;
      client.destroy();
      expect(Buffer.concat(received).equals(data)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual((1000 * data.length) / 8_000_000);
    } finally {
      await proxy.close();
      await new Promise<void>((r) => sink.close(() => r()));
    }
  });
});
