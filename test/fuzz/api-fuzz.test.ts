import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { parseConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import { household } from '../sync/household';
import { tempDir } from '../support/temp-dir';

const SEED = 20261202;

/** One raw HTTP/1.1 exchange over a socket (so malformed request lines really reach the server). */
function rawRequest(port: number, request: Buffer): Promise<{ status: number | null; text: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (): void => {
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, text });
    };
    s.setTimeout(3000, done);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/\r\n\r\n/.test(text)) {
        const len = /content-length: (\d+)/i.exec(text);
        const head = text.indexOf('\r\n\r\n') + 4;
        if (!len || text.length - head >= Number(len[1])) done();
      }
    });
    s.on('error', done);
    s.on('close', done);
    s.write(request);
  });
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'FOO'];
const PATHS = [
  '/api/status', '/api/consent', '/api/consent/ledger', '/api/sync', '/api/sync/flush', '/api/reload', '/api/devices/scale-a/command',
  '/metrics', '/healthz', '/panel/', '/', '//', '/api/devices/%E0%A4%A/command', '/api/devices/%/command', '/api/../etc/passwd',
  'http://[', '*', '/api/consent?x=%zz', `/${'a'.repeat(5000)}`,
];

const pathArb = fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 60 }).map((s) => `/${encodeURI(s)}`), fc.constantFrom(...PATHS).chain((p) => fc.string({ maxLength: 20 }).map((s) => p + s.replace(/[\s\r\n]/g, ''))));
const bodyArb = fc.oneof(
  fc.constant(''),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constant(JSON.stringify({ device: 'scale-a', category: 'usage', granted: false })),
  fc.constant(`${'['.repeat(50_000)}${']'.repeat(50_000)}`), // deep nesting
  fc.constant('x'.repeat(70 * 1024)), // over the 64 KiB body limit
);
const headerArb = fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.stringMatching(/^[ -~]{0,40}$/), { maxKeys: 4 });

describe('local HTTP API under hostile requests (real server, raw sockets)', () => {
  const t = tempDir();
  let agent: Agent;
  let port = 0;
  let token = '';
  const ledgerLength = (): number => agent.ledger.length;

  beforeAll(async () => {
    agent = new Agent(household(t.dir), { logger: silentLogger, drivers: [] });
    await agent.start();
    port = Number(agent.apiAddress!.split(':').pop());
    token = fs.readFileSync(path.join(t.dir, 'api-token'), 'utf8').trim();
  });
  afterAll(async () => {
    await agent.stop();
    t.cleanup();
  });

  it('malformed request targets get a 4xx and the agent keeps serving', async () => {
    for (const target of ['//', 'http://[', '/api/devices/%E0%A4%A/command', '//x/api/status']) {
      for (const method of ['GET', 'POST']) {
        const r = await rawRequest(port, Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Length: 2\r\n\r\n{}`));
        expect({ method, target, status: r.status }).toEqual({ method, target, status: expect.any(Number) });
        expect(r.status!).toBeLessThan(500);
      }
    }
    expect((await rawRequest(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).status).toBe(200);
  });

  it('random methods, paths, headers and bodies: never a 5xx, and without the token nothing changes', async () => {
    const entries = ledgerLength();
    const consentBefore = JSON.stringify(agent.ledger.entries());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), pathArb, headerArb, bodyArb, fc.boolean(), async (method, target, headers, body, withWrongToken) => {
        const h = Object.entries(headers).filter(([k]) => !/^(content-length|transfer-encoding|authorization|host)$/i.test(k));
        if (withWrongToken) h.push(['Authorization', `Bearer ${'0'.repeat(64)}`]);
        const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${h.map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
        const r = await rawRequest(port, Buffer.concat([Buffer.from(head), Buffer.from(body)]));
        if (r.status !== null) expect({ method, target, status: r.status }).toEqual({ method, target, status: r.status < 500 ? r.status : 'a 4xx' });
        if (method !== 'GET' && method !== 'HEAD' && r.status !== null && !target.startsWith('/panel')) expect(r.status).not.toBe(200);
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(ledgerLength()).toBe(entries);
    expect(JSON.stringify(agent.ledger.entries())).toBe(consentBefore);
    expect((await rawRequest(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).status).toBe(200);
  }, 60_000);

  it('with the token, random consent bodies get a 2xx or a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.record({ device: fc.oneof(fc.constant('scale-a'), fc.string()), category: fc.oneof(fc.constant('usage'), fc.string()), granted: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
          fc.record({ profile: fc.string(), campaign: fc.anything(), erase: fc.anything() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
        ),
        async (body) => {
          const head = `POST /api/consent HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
          const r = await rawRequest(port, Buffer.concat([Buffer.from(head), Buffer.from(body)]));
          expect(r.status).not.toBeNull();
          expect({ body, status: r.status }).toEqual({ body, status: r.status! < 500 ? r.status : 'a 4xx' });
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    expect(agent.ledger.verify().ok).toBe(true);
  }, 60_000);

  it('listens on loopback only unless configured otherwise', () => {
    const { config } = parseConfig('gateway: { id: gw-1, dataDir: ./data }\n', { sourceName: 'test.yaml', baseDir: t.dir, env: {} });
    expect(config.api.listen).toBe('127.0.0.1:8787');
    expect(agent.apiAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
