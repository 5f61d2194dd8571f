import * as net from 'node:net';
import { startHousehold, type PanelHousehold } from '../panel/panel-harness';

/**
 * Issue #21, attack 3, through the real HTTP listener: many connections send their sign-in headers, then all
 * their bodies at once. A guess is "compared" when it gets 403 (wrong code); however the requests are timed, no
 * more than the documented 5 per address and 30 in total per minute may be compared.
 */
async function raceLogins(h: PanelHousehold, addresses: string[], perAddress: number): Promise<number[]> {
  const sockets: Array<{ s: net.Socket; body: string; status: Promise<number> }> = [];
  let n = 0;
  for (const localAddress of addresses) {
    for (let i = 0; i < perAddress; i++) {
      const body = JSON.stringify({ code: `0000-${String(n++).padStart(4, '0')}` });
      const s = net.connect({ host: '127.0.0.1', port: h.port, localAddress });
      await new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('error', reject));
      const status = new Promise<number>((resolve) => {
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString()));
        s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
        s.on('error', () => undefined);
      });
      s.write(
        `POST /panel/api/login HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nOrigin: http://127.0.0.1:${h.port}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      sockets.push({ s, body, status });
    }
  }
  // every request's headers are in (the throttle has been consulted for each); now all bodies together
  await new Promise((r) => setTimeout(r, 300));
  for (const { s, body } of sockets) s.write(body);
  return Promise.all(sockets.map((x) => x.status));
}

describe('panel sign-in throttle under concurrent requests (real HTTP listener)', () => {
  let h: PanelHousehold;
  beforeEach(async () => {
    h = await startHousehold();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('60 connections from one address, bodies sent together: at most 5 codes are compared', async () => {
    const codes = await raceLogins(h, ['127.0.0.1'], 60);
    expect(codes.filter((c) => c === 403).length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(55);
    expect(codes.every((c) => c === 403 || c === 429)).toBe(true);
  }, 60_000);

  it('20 addresses x 10 connections, bodies sent together: at most 30 codes are compared in total', async () => {
    const addresses = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 2}`);
    const codes = await raceLogins(h, addresses, 10);
    expect(codes.filter((c) => c === 403).length).toBeLessThanOrEqual(30);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(170);
    // the right code is held back too while blocked
    const r = await fetch(`${h.base}/panel/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: h.base },
      body: JSON.stringify({ code: h.pairingCode() }),
    });
    expect(r.status).toBe(429);
  }, 60_000);
});
