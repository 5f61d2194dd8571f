import * as net from 'node:net';
import * as http from 'node:http';
import * as os from 'node:os';
import { writeNewPairingCode } from '../../agent/api/panel/pairing-code';
import { freePort } from '../support/free-port';
import { waitUntil } from '../support/wait-until';
import { pageHeaders, rawRequest, signIn, startHousehold, type PanelHousehold } from './panel-harness';

const GRANT_USAGE = JSON.stringify({ device: 'scale-1', category: 'usage', granted: true });

describe('household panel: who may see and change consent (real agent, real HTTP)', () => {
  let hh: PanelHousehold;
  beforeAll(async () => (hh = await startHousehold()));
  afterAll(async () => hh.stop());
  const ledgerLength = (): number => hh.agent.ledger.length;

  it('the page and its files are served from the agent, with a strict CSP and no framing', async () => {
    for (const [route, type] of [
      ['/panel/', 'text/html'],
      ['/panel/panel.js', 'text/javascript'],
      ['/panel/panel-api.js', 'text/javascript'],
      ['/panel/panel.css', 'text/css'],
    ] as const) {
      const r = await rawRequest(hh.base, 'GET', route);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toContain(type);
      expect(r.headers['content-security-policy']).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
    expect((await rawRequest(hh.base, 'GET', '/')).headers.location).toBe('/panel/');
    expect((await rawRequest(hh.base, 'GET', '/panel/../package.json')).status).toBe(404);
    expect((await rawRequest(hh.base, 'GET', '/panel/%2e%2e%2fpackage.json')).status).toBe(404);
  });

  it('without a session the household data and every change are refused (401)', async () => {
    expect((await rawRequest(hh.base, 'GET', '/panel/api/state')).status).toBe(401);
    expect((await rawRequest(hh.base, 'GET', '/panel/api/history')).status).toBe(401);
    expect((await rawRequest(hh.base, 'GET', '/panel/api/events')).status).toBe(401);
    expect((await rawRequest(hh.base, 'GET', '/panel/api/receipts/1.json')).status).toBe(401);
    const host = new URL(hh.base).host;
    const r = await rawRequest(hh.base, 'POST', '/panel/api/consent', {
      headers: { host, origin: `http://${host}`, 'content-type': 'application/json', 'x-csrf-token': 'guess' },
      body: GRANT_USAGE,
    });
    expect(r.status).toBe(401);
    // The API's bearer token is for programs on the gateway, not a way into the panel.
    const bearer = await rawRequest(hh.base, 'POST', '/panel/api/consent', {
      headers: { host, origin: `http://${host}`, 'content-type': 'application/json', authorization: `Bearer ${hh.apiToken}` },
      body: GRANT_USAGE,
    });
    expect(bearer.status).toBe(401);
    expect((await rawRequest(hh.base, 'GET', '/panel/api/session')).json()).toEqual({ signedIn: false, gateway: 'gw-panel' });
  });

  it('the session cookie is HttpOnly, SameSite=Strict and scoped to /panel', async () => {
    const s = await signIn(hh.base, hh.pairingCode());
    expect(s.setCookie).toMatch(/^edge_panel=[A-Za-z0-9_-]{43}; Path=\/panel; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    // …and does not open the bearer-token API.
    const r = await rawRequest(hh.base, 'POST', '/api/consent', { headers: { ...pageHeaders(hh.base, s) }, body: GRANT_USAGE });
    expect(r.status).toBe(401);
  });

  it.each([
    ['no CSRF token', (h: Record<string, string>) => ({ ...h, 'x-csrf-token': '' }), 403, /X-CSRF-Token/],
    ['a wrong CSRF token', (h: Record<string, string>) => ({ ...h, 'x-csrf-token': 'x'.repeat(43) }), 403, /X-CSRF-Token/],
    ['another site as Origin', (h: Record<string, string>) => ({ ...h, origin: 'http://evil.example' }), 403, /Origin http:\/\/evil\.example is not this panel/],
    ['no Origin', (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'origin')), 403, /missing Origin/],
    ['Sec-Fetch-Site: cross-site', (h: Record<string, string>) => ({ ...h, 'sec-fetch-site': 'cross-site' }), 403, /cross-site/],
    ['a form post (text/plain)', (h: Record<string, string>) => ({ ...h, 'content-type': 'text/plain' }), 415, /application\/json/],
    ['a rebinding Host', (h: Record<string, string>) => ({ ...h, host: `evil.example:${hh.port}`, origin: `http://evil.example:${hh.port}` }), 403, /unknown Host/],
  ])('a change with a session but %s is refused and changes nothing', async (_name, tamper, status, re) => {
    const s = await signIn(hh.base, hh.pairingCode());
    const before = ledgerLength();
    const r = await rawRequest(hh.base, 'POST', '/panel/api/consent', { headers: tamper(pageHeaders(hh.base, s)), body: GRANT_USAGE });
    expect(r.status).toBe(status);
    expect((r.json() as { error: string }).error).toMatch(re);
    expect(ledgerLength()).toBe(before);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(false);
  });

  it('no change happens through GET, and hostile bodies get clear errors', async () => {
    const s = await signIn(hh.base, hh.pairingCode());
    const before = ledgerLength();
    const get = await rawRequest(hh.base, 'GET', '/panel/api/consent?device=scale-1&category=usage&granted=true', { headers: pageHeaders(hh.base, s) });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await rawRequest(hh.base, 'GET', '/panel/api/devices/scale-1/erase', { headers: pageHeaders(hh.base, s) })).status).toBe(405);
    expect((await rawRequest(hh.base, 'DELETE', '/panel/api/state', { headers: pageHeaders(hh.base, s) })).status).toBe(405);
    const post = (body: string | Buffer) => rawRequest(hh.base, 'POST', '/panel/api/consent', { headers: pageHeaders(hh.base, s), body });
    const cases: Array<[string | Buffer, number, RegExp]> = [
      ['{not json', 400, /not JSON/],
      ['[1,2]', 400, /JSON object/],
      [Buffer.alloc(100_000, 0x20), 413, /larger than 4096/],
      [JSON.stringify({ device: 'scale-1', category: 'usage', granted: 'yes' }), 400, /"granted" must be true or false/],
      [JSON.stringify({ device: 'scale-1', category: 'usage', granted: true, source: 'upstream' }), 400, /unexpected field\(s\): source/],
      [JSON.stringify({ device: 'scale-1', category: '*', granted: true }), 400, /one category at a time/],
      [JSON.stringify({ device: 'ghost', category: 'usage', granted: true }), 400, /unknown device "ghost"/],
      [JSON.stringify({ device: 'scale-1', category: 'mood', granted: true }), 400, /unknown category "mood"/],
    ];
    for (const [body, status, re] of cases) {
      const r = await post(body);
      expect([r.status, (r.json() as { error: string }).error]).toEqual([status, expect.stringMatching(re)]);
    }
    expect((await rawRequest(hh.base, 'POST', '/panel/api/devices/ghost/erase', { headers: pageHeaders(hh.base, s), body: '{}' })).status).toBe(404);
    expect((await rawRequest(hh.base, 'POST', '/panel/api/devices/%E0%A4%A/erase', { headers: pageHeaders(hh.base, s), body: '{}' })).status).toBe(400);
    expect(ledgerLength()).toBe(before);
  });

  it('a change with session, CSRF token and the page Origin goes through the CLI path, recorded as source "panel"', async () => {
    const s = await signIn(hh.base, hh.pairingCode());
    const r = await rawRequest(hh.base, 'POST', '/panel/api/consent', { headers: pageHeaders(hh.base, s), body: GRANT_USAGE });
    expect(r.status).toBe(200);
    const body = r.json() as { applied: boolean; entry: { source: string; granted: boolean }; effectiveInMs: number };
    expect(body.entry).toMatchObject({ source: 'panel', granted: true });
    expect(body.effectiveInMs).toBeLessThan(100);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(true);
    expect(hh.agent.ledger.entries().at(-1)).toMatchObject({ source: 'panel', subject: 'scale-1', target: 'usage', granted: true });
    // Signing out ends the session on the gateway, not just in the browser.
    expect((await rawRequest(hh.base, 'POST', '/panel/api/logout', { headers: pageHeaders(hh.base, s), body: '{}' })).status).toBe(200);
    expect((await rawRequest(hh.base, 'GET', '/panel/api/state', { headers: { cookie: s.cookie } })).status).toBe(401);
  });

  it('the event stream pushes consent changes made elsewhere, and ends once its session is signed out', async () => {
    const s = await signIn(hh.base, hh.pairingCode());
    const url = new URL('/panel/api/events', hh.base);
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      http
        .get(url, { headers: { cookie: s.cookie, host: url.host } }, (res) => {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve());
        })
        .on('error', reject);
    });
    await waitUntil('stream open', () => text.startsWith('retry: 2000'));
    hh.agent.changeConsent({ scope: 'channel', subject: 'home-a', target: 'email', granted: true, source: 'cli' });
    await waitUntil('consent event', () => text.includes('event: consent'));
    expect(text).toContain('"scope":"channel","subject":"home-a","target":"email","granted":true,"source":"cli"');
    expect((await rawRequest(hh.base, 'POST', '/panel/api/logout', { headers: pageHeaders(hh.base, s), body: '{}' })).status).toBe(200);
    hh.agent.changeConsent({ scope: 'channel', subject: 'home-a', target: 'email', granted: false, source: 'cli' });
    await ended;
    expect(text.match(/event: consent/g)).toHaveLength(1); // the second change was not sent to the signed-out stream
  });

  it('a foreign page cannot sign a browser in (Origin checked on login too)', async () => {
    const host = new URL(hh.base).host;
    const r = await rawRequest(hh.base, 'POST', '/panel/api/login', {
      headers: { host, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ code: hh.pairingCode() }),
    });
    expect(r.status).toBe(403);
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('a rotated pairing code applies at once: the old one is refused, the new one accepted', async () => {
    const old = hh.pairingCode();
    const fresh = writeNewPairingCode(hh.dataDir);
    await expect(signIn(hh.base, old)).rejects.toThrow(/403/);
    expect((await signIn(hh.base, `${fresh.slice(0, 4)} ${fresh.slice(4)}`)).csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('household panel in LAN mode (second listener)', () => {
  let hh: PanelHousehold;
  let lanBase: string;
  beforeAll(async () => {
    const port = await freePort();
    hh = await startHousehold({ lanListen: `0.0.0.0:${port}` });
    // Reach it the way a phone would: by the gateway's LAN address when it has one.
    const lanIp = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    lanBase = `http://${lanIp ?? '127.0.0.1'}:${port}`;
  });
  afterAll(async () => hh.stop());

  it('serves only the panel: the local API (status, metrics, bearer-token changes) stays on loopback', async () => {
    expect(hh.agent.panelLanAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    expect((await rawRequest(lanBase, 'GET', '/panel/')).status).toBe(200);
    expect((await rawRequest(lanBase, 'GET', '/')).headers.location).toBe('/panel/');
    for (const route of ['/api/status', '/api/consent', '/metrics', '/api/consent/ledger']) {
      expect([route, (await rawRequest(lanBase, 'GET', route)).status]).toEqual([route, 404]);
    }
    const r = await rawRequest(lanBase, 'POST', '/api/consent', {
      headers: { authorization: `Bearer ${hh.apiToken}`, 'content-type': 'application/json' },
      body: GRANT_USAGE,
    });
    expect(r.status).toBe(404);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(false);
    // A request target `new URL` cannot parse is a 400 here too, never a crash of the agent.
    for (const target of ['//', 'http://[']) {
      const head = await new Promise<string>((resolve, reject) => {
        const u = new URL(lanBase);
        const sock = net.connect(Number(u.port), u.hostname, () => sock.write(`GET ${target} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
        let d = '';
        sock.on('data', (c: Buffer) => {
          d += c.toString();
          if (d.includes('\r\n\r\n')) {
            sock.destroy();
            resolve(d);
          }
        });
        sock.on('error', reject);
      });
      expect([target, head.split('\r\n')[0]]).toEqual([target, 'HTTP/1.1 400 Bad Request']);
    }
    expect((await rawRequest(lanBase, 'GET', '/panel/')).status).toBe(200);
  });

  it('refuses everything without the pairing code, throttles guessing, and works with it', async () => {
    const host = new URL(lanBase).host;
    expect((await rawRequest(lanBase, 'GET', '/panel/api/state')).status).toBe(401);
    const wrong = hh.pairingCode() === '00000000' ? '11111111' : '00000000';
    const attempt = () =>
      rawRequest(lanBase, 'POST', '/panel/api/login', {
        headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code: wrong }),
      });
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(403);
    const blocked = await attempt();
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The right code from the same address is also held back until the window passes: guessing gains nothing.
    await expect(signIn(lanBase, hh.pairingCode())).rejects.toThrow(/429/);
  });

  it('a session from the loopback page works on the LAN listener as well (one household, one session store)', async () => {
    const s = await signIn(hh.base, hh.pairingCode());
    const r = await rawRequest(lanBase, 'POST', '/panel/api/consent', { headers: pageHeaders(lanBase, s), body: GRANT_USAGE });
    expect(r.status).toBe(200);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(true);
    const state = await rawRequest(lanBase, 'GET', '/panel/api/state', { headers: { cookie: s.cookie } });
    expect(state.status).toBe(200);
  });
});
