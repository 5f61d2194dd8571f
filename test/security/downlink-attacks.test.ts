import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

/**
 * Issue #21, attacks 1 and 2, through the real path: the built CLI (`edge-agent run`), a real Mosquitto, the
 * attacker publishing on the gateway's downlink topics. The agent must answer every message, stay up and
 * change nothing for a refused one.
 */

interface Reply {
  topic: string;
  body: Record<string, unknown>;
}

function config(dir: string, brokerUrl: string, apiPort: number, profile: 'generic' | 'thingsboard'): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    `gateway: { id: gw-attack, dataDir: ${path.join(dir, 'data')} }
api: { listen: "127.0.0.1:${apiPort}" }
upstream: { url: "${brokerUrl}", profile: ${profile}, reconnect: { minMs: 50, maxMs: 200 } }
devices:
  - { id: scale-a, transport: sim, model: kitchen-scale, ratePerMin: 1, profile: home-a }
campaigns:
  - { id: coffee, qualify: { event: dispense }, value: 50, threshold: 1000000, channels: [push] }
consent:
  grants: [{ device: scale-a, category: usage }, { profile: home-a, campaign: coffee }]
`,
  );
  return file;
}

async function api(port: number, p: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: r.status, body: (await r.json()) as unknown };
}

(hasMosquitto ? describe : describe.skip)('one upstream message never stops the agent or reads a file (built CLI, real Mosquitto)', () => {
  async function withAgent(profile: 'generic' | 'thingsboard', body: (h: { pub: (topic: string, payload: string | Buffer) => Promise<void>; replies: Reply[]; apiPort: number; dir: string; alive: () => boolean }) => Promise<void>): Promise<void> {
    const t = tempDir();
    const broker = new Mosquitto(await freePort());
    await broker.start();
    const apiPort = await freePort();
    const cli = startCli(['run', '--config', config(t.dir, broker.url, apiPort, profile)]);
    let exited = false;
    void cli.exit.then(() => (exited = true));
    const client = await mqtt.connectAsync(broker.url);
    const replies: Reply[] = [];
    client.on('message', (topic, payload) => {
      try {
        replies.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> });
      } catch {
        replies.push({ topic, body: { unparsable: payload.toString().slice(0, 100) } });
      }
    });
    await client.subscribeAsync(profile === 'generic' ? 'edge/gw-attack/response/#' : ['v1/devices/me/rpc/response/+', 'v1/gateway/rpc'], { qos: 1 });
    try {
      await cli.waitFor(/ready/);
      let connected = false;
      await waitUntil('the uplink connected', () => {
        void api(apiPort, '/api/status').then((r) => (connected = (r.body as { upstream?: { connected?: boolean } }).upstream?.connected === true), () => undefined);
        return connected;
      }, 15_000);
      await body({ pub: async (topic, payload) => void (await client.publishAsync(topic, payload, { qos: 1 })), replies, apiPort, dir: t.dir, alive: () => !exited });
    } finally {
      client.end(true);
      cli.child.kill('SIGTERM');
      await cli.exit;
      await broker.dispose();
      t.cleanup();
    }
  }

  const ledger = async (port: number): Promise<string> => JSON.stringify((await api(port, '/api/consent/ledger')).body);

  it('generic: a transaction nested 200,000 deep is refused whole (nothing applied) and answered; the agent stays up', async () => {
    await withAgent('generic', async ({ pub, replies, apiPort, alive }) => {
      const before = await ledger(apiPort);
      // 200,000 deep (over the size limit) and 20,000 deep (under it): both refused whole, both answered
      for (const depth of [200_000, 20_000]) {
        await pub('edge/gw-attack/set/consent', `{"device":"scale-a","category":"usage","granted":false,"transaction":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      }
      await waitUntil('two answers', () => replies.length >= 2, 10_000);
      for (const r of replies) {
        expect(r.topic).toBe('edge/gw-attack/response/consent');
        expect(r.body.status).toBe('error');
      }
      expect(String(replies[0]!.body.error)).toMatch(/larger than/);
      expect(String(replies[1]!.body.error)).toMatch(/nested deeper/);
      expect(alive()).toBe(true);
      expect(await ledger(apiPort)).toBe(before); // the withdrawal inside the refused messages was not applied
      replies.length = 0;
      // a well-formed request still works, and an object transaction is not echoed back unbounded
      await pub('edge/gw-attack/set/consent', JSON.stringify({ device: 'scale-a', category: 'usage', granted: false, transaction: 'tx-1' }));
      await waitUntil('a second answer', () => replies.length > 0, 10_000);
      expect(replies[0]!.body).toMatchObject({ status: 'ok', transaction: 'tx-1' });
      await pub('edge/gw-attack/set/consent', JSON.stringify({ device: 'scale-a', category: 'usage', granted: false, transaction: { a: 'x'.repeat(10_000) } }));
      await waitUntil('a third answer', () => replies.length > 1, 10_000);
      expect(replies[1]!.body.transaction).toBeUndefined();
      expect(alive()).toBe(true);
    });
  }, 60_000);

  it('thingsboard: an RPC naming a built-in (toString, __proto__, constructor, hasOwnProperty) is an unknown method; the agent stays up', async () => {
    await withAgent('thingsboard', async ({ pub, replies, apiPort, alive }) => {
      const before = await ledger(apiPort);
      const methods = ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'];
      for (const [i, method] of methods.entries()) await pub(`v1/devices/me/rpc/request/${i}`, JSON.stringify({ method, params: {} }));
      for (const [i, method] of methods.entries()) {
        await pub('v1/gateway/rpc', JSON.stringify({ device: 'home-a', data: { id: 100 + i, method, params: { device: 'scale-a', category: 'usage', granted: false } } }));
      }
      // v1/gateway/rpc carries requests and replies alike: only replies (data.success) are answers, and a
      // reply seen back on the topic must not be answered again (that was a loop on a plain broker)
      const answers = (): Reply[] => replies.filter((r) => r.topic !== 'v1/gateway/rpc' || (r.body.data as { success?: unknown }).success !== undefined);
      await waitUntil('every RPC answered', () => answers().length >= 2 * methods.length, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(answers()).toHaveLength(2 * methods.length);
      for (const r of answers()) {
        const data = (r.topic === 'v1/gateway/rpc' ? r.body.data : r.body) as Record<string, unknown>;
        expect(data.success).toBe(false);
        expect(String(data.error)).toMatch(/unknown method/);
      }
      expect(alive()).toBe(true);
      expect(await ledger(apiPort)).toBe(before);
    });
  }, 60_000);

  it('household first: a future-dated upstream grant replayed after a household withdrawal, and grants of health/biometric/*, are refused', async () => {
    await withAgent('generic', async ({ pub, replies, apiPort, dir, alive }) => {
      const token = fs.readFileSync(path.join(dir, 'data', 'api-token'), 'utf8').trim();
      const now = Date.now();
      // the attacker captured (or forged) a grant dated a few minutes ahead…
      const grant = JSON.stringify({ profile: 'home-a', campaign: 'coffee', granted: true, at: now + 4 * 60_000 });
      // …the household withdraws (the CLI's path: POST /api/consent with the token)…
      const r = await fetch(`http://127.0.0.1:${apiPort}/api/consent`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ profile: 'home-a', campaign: 'coffee', granted: false }),
      });
      expect(r.status).toBe(200);
      // …and the grant is replayed, then grants of what only the household may grant
      await pub('edge/gw-attack/set/consent', grant);
      for (const category of ['health', 'biometric', '*']) await pub('edge/gw-attack/set/consent', JSON.stringify({ device: 'scale-a', category, granted: true }));
      await pub('edge/gw-attack/set/consent', JSON.stringify({ profile: 'home-a', campaign: 'coffee', granted: true, at: now + 60 * 60_000 }));
      await waitUntil('five answers', () => replies.length >= 5, 10_000);
      for (const x of replies) expect(x.body.status).toBe('error');
      expect(String(replies[0]!.body.error)).toMatch(/household withdrew/);
      expect(String(replies[1]!.body.error)).toMatch(/special category/);
      expect(String(replies[3]!.body.error)).toMatch(/household/);
      expect(String(replies[4]!.body.error)).toMatch(/ahead/);
      const consent = (await api(apiPort, '/api/consent')).body;
      expect(JSON.stringify(consent)).not.toMatch(/"health"|"biometric"/);
      const receipts = ((await api(apiPort, '/api/consent/ledger')).body as { receipts: Array<{ consentTimestamp: string; collectionMethod: string }> }).receipts;
      const ats = receipts.map((e) => Date.parse(e.consentTimestamp));
      expect(ats).toEqual([...ats].sort((a, b) => a - b));
      expect(Math.max(...ats)).toBeLessThanOrEqual(Date.now());
      expect(receipts.filter((e) => e.collectionMethod === 'upstream')).toEqual([]);
      expect(alive()).toBe(true);
    });
  }, 60_000);

  it('set/campaign naming a file (/dev/zero, a FIFO, /etc/passwd, a missing path) is refused without opening it and without saying whether it exists', async () => {
    await withAgent('generic', async ({ pub, replies, apiPort, dir, alive }) => {
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const paths = ['/dev/zero', fifo, '/etc/passwd', '/nonexistent/x.js', '../../etc/shadow'];
      const shapes = (file: string): unknown[] => [
        { id: 'evil', qualify: { event: 'dispense' }, value: { scriptFile: file }, threshold: 1, channels: ['push'] },
        { id: 'evil', qualify: { event: 'dispense', condition: { scriptFile: file } }, value: 1, threshold: 1, channels: ['push'] },
      ];
      const started = Date.now();
      let n = 0;
      for (const file of paths) {
        for (const c of shapes(file)) {
          await pub('edge/gw-attack/set/campaign', JSON.stringify(c));
          n++;
        }
      }
      await waitUntil('every campaign answered', () => replies.length >= n, 10_000);
      expect(Date.now() - started).toBeLessThan(5000);
      const errors = replies.map((r) => String(r.body.error));
      for (const r of replies) expect(r.body.status).toBe('error');
      // the same answer whatever the path: nothing about existence, nothing read
      expect(new Set(errors).size).toBe(2); // one answer per shape, identical for every path
      for (const e of errors) for (const p of paths) expect(e).not.toContain(p);
      expect(errors.join(' ')).not.toMatch(/ENOENT|EACCES|cannot read/);
      expect(alive()).toBe(true);
      expect((await api(apiPort, '/healthz')).status).toBe(200);
      const status = (await api(apiPort, '/api/status')).body as { process?: { rssBytes?: number } };
      expect(JSON.stringify(status)).not.toContain('"evil"');
    });
  }, 60_000);
});
