import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { pageHeaders, rawRequest, signIn, startHousehold, type PanelHousehold } from '../panel/panel-harness';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/**
 * Issue #21, attacks 5 and 6 (HTTP), through the real listener of a running agent: DNS rebinding against the
 * local API, bodies refused before they are read, idle and half-sent connections, event-stream slots.
 */

/** Sends `head` (and nothing else); resolves with what came back and how long until the server closed. */
function rawExchange(port: number, head: string, opts: { keepSending?: boolean } = {}): Promise<{ text: string; closedAfterMs: number; sentBytes: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    let timer: NodeJS.Timeout | null = null;
    s.on('connect', () => {
      if (head) s.write(head);
      if (opts.keepSending) {
        // a slow upload that would take minutes: 64 KiB every 20 ms
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        timer = setInterval(() => {
          if (!s.destroyed && s.writable) s.write(chunk, () => (sent += chunk.length));
        }, 20);
      }
    });
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (timer) clearInterval(timer);
      resolve({ text, closedAfterMs: Date.now() - started, sentBytes: sent });
    });
  });
}

describe('the local API and panel under LAN and browser attacks (real agent, real HTTP listener)', () => {
  let h: PanelHousehold;
  beforeAll(async () => {
    h = await startHousehold();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('every API route checks Host: a rebinding name gets 403 with nothing of the household in it', async () => {
    const routes = ['/api/status', '/api/consent', '/api/consent/ledger', '/api/sync', '/metrics', '/healthz', '/nope'];
    for (const route of routes) {
      const evil = await rawRequest(h.base, 'GET', route, { headers: { host: `evil.example:${h.port}` } });
      expect([route, evil.status]).toEqual([route, 403]);
      expect(evil.text).not.toMatch(/scale-1|ledger|receipt/);
      const ok = await rawRequest(h.base, 'GET', route, { headers: { host: `127.0.0.1:${h.port}` } });
      expect([route, ok.status]).toEqual([route, route === '/nope' ? 404 : 200]);
    }
    expect((await rawRequest(h.base, 'GET', '/api/status', { headers: { host: `localhost:${h.port}` } })).status).toBe(200);
    const post = await rawRequest(h.base, 'POST', '/api/consent', {
      headers: { host: `evil.example:${h.port}`, authorization: `Bearer ${h.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'home-a', channel: 'push', granted: false }),
    });
    expect(post.status).toBe(403);
    expect(h.agent.ledger.rules.channelAllows('home-a', 'push')).toBe(true);
  });

  it('an unauthenticated or oversized body is refused before it is read: the answer comes while the upload has barely started', async () => {
    const host = `127.0.0.1:${h.port}`;
    const cases = [
      { head: `POST /api/consent HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 500000000\r\n\r\n`, status: 401 },
      { head: `POST /api/consent HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n`, status: 401 },
      { head: `POST /api/consent HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${h.apiToken}\r\nContent-Length: 500000000\r\n\r\n`, status: 413 },
      { head: `POST /panel/api/consent HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nContent-Type: application/json\r\nContent-Length: 500000000\r\n\r\n`, status: 401 },
      { head: `POST /panel/api/login HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nContent-Type: application/json\r\nContent-Length: 500000000\r\n\r\n`, status: 413 },
    ];
    const results = await Promise.all(cases.map((c) => rawExchange(h.port, c.head, { keepSending: true })));
    for (const [i, r] of results.entries()) {
      expect([i, Number(/^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1])]).toEqual([i, cases[i]!.status]);
      expect(r.sentBytes).toBeLessThan(64 * 1024 * 1024); // far from 500 MB: the server hung up
    }
  }, 60_000);

  it('idle, half-sent headers and half-sent bodies are dropped within the documented limits (10 s headers, 20 s request)', async () => {
    const host = `127.0.0.1:${h.port}`;
    const [idle, halfHeaders, halfBody] = await Promise.all([
      rawExchange(h.port, ''),
      rawExchange(h.port, `GET /api/status HTTP/1.1\r\nHost: ${host}\r\n`),
      rawExchange(h.port, `POST /api/consent HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${h.apiToken}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"pro`),
    ]);
    expect(idle.closedAfterMs).toBeLessThan(10_000 + 3_000);
    expect(halfHeaders.closedAfterMs).toBeLessThan(10_000 + 3_000);
    expect(halfBody.closedAfterMs).toBeLessThan(20_000 + 3_000);
    expect(halfBody.closedAfterMs).toBeGreaterThanOrEqual(10_000); // a slow but live body gets its full 20 s
  }, 60_000);

  it('one sign-in holds at most 4 live-update streams; other sessions still get theirs', async () => {
    const a = await signIn(h.base, h.pairingCode());
    const b = await signIn(h.base, h.pairingCode());
    const open = (s: { cookie: string; csrf: string }): Promise<{ status: number; close: () => void }> =>
      new Promise((resolve, reject) => {
        const sock = net.connect(h.port, '127.0.0.1', () => {
          const hd = pageHeaders(h.base, s);
          sock.write(`GET /panel/api/events HTTP/1.1\r\nHost: ${hd.host}\r\nCookie: ${hd.cookie}\r\n\r\n`);
        });
        sock.once('data', (d: Buffer) => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString())?.[1]), close: () => sock.destroy() }));
        sock.on('error', reject);
      });
    const mine = [];
    for (let i = 0; i < 6; i++) mine.push(await open(a));
    expect(mine.map((m) => m.status)).toEqual([200, 200, 200, 200, 503, 503]);
    const other = await open(b);
    expect(other.status).toBe(200);
    for (const m of [...mine, other]) m.close();
  });
});

describe('config validate says when the API leaves loopback (built CLI)', () => {
  it.each([
    ['0.0.0.0:8787', true],
    ['192.168.1.20:8787', true],
    ['[::]:8787', true],
    ['127.0.0.1:8787', false],
    ['localhost:8787', false],
    ['[::1]:8787', false],
  ])('api.listen %s → warning %s', async (listen, warned) => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'config.yaml');
      fs.writeFileSync(file, `gateway: { id: gw, dataDir: ${t.dir} }\napi: { listen: "${listen}" }\ndevices: []\n`);
      const r = await runCli(['config', 'validate', '--config', file]);
      expect(r.code).toBe(0);
      if (warned) expect(r.stderr).toMatch(/warning: api\.listen .* is not a loopback address: anyone who can reach it can read status, metrics and the consent ledger/);
      else expect(r.stderr).not.toMatch(/loopback/);
    } finally {
      t.cleanup();
    }
  });
});
