import { Agent } from '../../agent/controller';
import type { UpstreamConfig } from '../../agent/config';
import { household } from './household';
import { silentLogger } from '../../agent/logger';
import { DeviceLink, HELLO_SCALE, allAnswered, dispense } from '../support/device-link';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { MqttChecker, hasMosquittoClients as hasClients } from '../support/mqtt-checker';
import { waitUntil as waitFor } from '../support/wait-until';
import { makeTestCa, type TestCa } from '../support/test-ca';
import { tempDir } from '../support/temp-dir';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const hasOpenssl = spawnSync('which', ['openssl']).status === 0;

interface SignalBatch {
  gateway: string;
  batch: number;
  signals: Array<{ id: string; profile: string; campaign: string; index: number; r: number | null; f: number; v: number | null; trigger: boolean; channels: string[]; ts: number }>;
}

const waitUntil = (what: string, cond: () => boolean): Promise<void> => waitFor(what, cond, 15_000);

(hasMosquitto && hasClients ? describe : describe.skip)('upstream sync, profile generic, against a real Mosquitto and mosquitto_sub', () => {
  let t: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let checker: MqttChecker;
  let agent: Agent | null = null;
  beforeEach(async () => {
    t = tempDir();
    broker = new Mosquitto(await freePort(), { persistence: true });
    await broker.start();
    checker = new MqttChecker(broker.port, ['edge/#']);
    await checker.start();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    await checker.stop();
    await broker.dispose();
    t.cleanup();
  });

  const signals = (): SignalBatch['signals'] => checker.json<SignalBatch>('edge/gw-sync/signals').flatMap((b) => b.signals);

  it('publishes signals and consent receipts with the exact topics and JSON shape, and a retained state with last will', async () => {
    agent = new Agent(household(t.dir, { url: broker.url }), { logger: silentLogger, drivers: [], api: false });
    await agent.start();
    await checker.waitFor('state online', () => checker.on('edge/gw-sync/state').some((m) => m.payload === 'online'));
    const a = new DeviceLink(agent, 'scale-a');
    a.send(HELLO_SCALE('scale-a'));
    for (let i = 1; i <= 5; i++) a.send(dispense(i));
    await checker.waitFor('5 signals', () => signals().length === 5);
    const batch = checker.json<SignalBatch>('edge/gw-sync/signals')[0];
    expect(Object.keys(batch).sort()).toEqual(['batch', 'gateway', 'signals']);
    expect(batch.gateway).toBe('gw-sync');
    expect(typeof batch.batch).toBe('number');
    const s = signals()[4];
    expect(Object.keys(s).sort()).toEqual(['campaign', 'channels', 'f', 'id', 'index', 'profile', 'r', 'trigger', 'ts', 'v']);
    expect(s).toMatchObject({ profile: 'home-a', campaign: 'coffee', f: 5, v: 50, trigger: false, channels: [] });
    expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
    // config grants are recorded in the ledger and their receipts go upstream
    await checker.waitFor('consent receipts', () => checker.on('edge/gw-sync/consent').length > 0);
    const receipts = checker.json<{ gateway: string; receipts: Array<{ state: string }> }>('edge/gw-sync/consent').flatMap((b) => b.receipts);
    expect(receipts.length).toBe(5);
    expect(receipts.every((r) => r.state === 'granted')).toBe(true);
    // clean stop says offline (retained); a crash would leave the last will do it
    await agent.stop();
    agent = null;
    await checker.waitFor('state offline', () => checker.on('edge/gw-sync/state').at(-1)?.payload === 'offline');
  });

  it('broker down for a while with signals produced meanwhile: after it returns every signal arrives once by id, in order', async () => {
    agent = new Agent(household(t.dir, { url: broker.url, batch: { maxRows: 50, maxBytes: 65536, delayMs: 20 } }), {
      logger: silentLogger,
      drivers: [],
      api: false,
    });
    await agent.start();
    const a = new DeviceLink(agent, 'scale-a');
    const b = new DeviceLink(agent, 'scale-b');
    a.send(HELLO_SCALE('scale-a'));
    b.send(HELLO_SCALE('scale-b'));
    for (let i = 1; i <= 100; i++) a.send(dispense(i));
    await checker.waitFor('first 100', () => signals().length === 100);
    await waitUntil('first 100 acked', () => agent!.status().outbox.pending === 0 && agent!.status().upstream.inFlightRows === 0);

    await broker.stop();
    await waitUntil('agent sees the outage', () => !agent!.status().upstream.connected);
    for (let i = 101; i <= 3000; i++) (i % 2 ? a : b).send(dispense(i));
    await allAnswered(agent); // all 2,900 committed
    const queued = agent.database.prepare("SELECT signal_id AS sid FROM outbox WHERE kind = 'signal' ORDER BY id").all() as Array<{ sid: string }>;
    expect(queued.length).toBe(2900);
    expect(agent.status().upstream.error).toMatch(/connection refused|ECONNREFUSED|closed/i);

    await broker.start();
    await checker.waitFor('all 3000 signals', () => new Set(signals().map((s) => s.id)).size === 3000, 30_000);
    await waitUntil('outbox empty', () => agent!.status().outbox.pending === 0);
    const got = signals();
    expect(new Set(got.map((s) => s.id)).size).toBe(got.length); // exactly once: no duplicate ids at all here
    // in order: the backlog arrives in the order it was queued
    const backlog = got.slice(100).map((s) => s.id);
    expect(backlog).toEqual(queued.map((q) => q.sid));
    // per profile, frequency only grows (order kept within each key)
    for (const p of ['home-a', 'home-b']) {
      const fs = got.filter((s) => s.profile === p).map((s) => s.f);
      expect(fs).toEqual([...fs].sort((x, y) => x - y));
    }
    expect(agent.status().upstream.connects).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('answers set/consent, set/campaign and set/value on response/<what>; a bad request changes nothing', async () => {
    agent = new Agent(household(t.dir, { url: broker.url }), { logger: silentLogger, drivers: [], api: false });
    await agent.start();
    await checker.waitFor('online', () => checker.on('edge/gw-sync/state').length > 0);
    const pub = (what: string, body: unknown): void => {
      const r = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', `edge/gw-sync/set/${what}`, '-m', typeof body === 'string' ? body : JSON.stringify(body)]);
      expect(r.status).toBe(0);
    };
    const responses = (what: string): Array<{ status: string; data: Record<string, unknown>; error?: string; transaction?: unknown }> =>
      checker.json(`edge/gw-sync/response/${what}`);

    // V from upstream for a campaign that takes it
    pub('value', { profile: 'home-a', campaign: 'tea', v: 80, transaction: 't1' });
    await checker.waitFor('value response', () => responses('value').length === 1);
    expect(responses('value')[0]).toEqual({ status: 'ok', data: { profile: 'home-a', campaign: 'tea', v: 80 }, transaction: 't1' });
    expect(agent.status().engagement.find((e) => e.profile === 'home-a' && e.campaign === 'tea')?.v).toBe(80);
    pub('value', { profile: 'home-a', campaign: 'coffee', v: 80, transaction: 't2' });
    pub('value', { profile: 'home-a', campaign: 'tea', v: 180, transaction: 't3' });
    await checker.waitFor('value errors', () => responses('value').length === 3);
    expect(responses('value')[1]).toMatchObject({ status: 'error', error: expect.stringMatching(/does not take V from upstream/), transaction: 't2' });
    expect(responses('value')[2]).toMatchObject({ status: 'error', error: expect.stringMatching(/0 to 100/) });
    expect(agent.status().engagement.find((e) => e.campaign === 'tea')?.v).toBe(80);

    // a campaign definition: a bad one is rejected whole, a good one becomes active
    pub('campaign', { id: 'descale', qualify: { event: 'descale-due' }, value: 40, threshold: -1, channels: ['fax'], transaction: 9 });
    await checker.waitFor('campaign error', () => responses('campaign').length === 1);
    const bad = responses('campaign')[0];
    expect(bad).toMatchObject({ status: 'error', transaction: 9 });
    expect(bad.error).toMatch(/campaign\.threshold/);
    expect(bad.error).toMatch(/campaign\.channels\[0\]/);
    expect(agent.config.campaigns.map((c) => c.id)).toEqual(['coffee', 'tea']);
    pub('campaign', { id: 'descale', qualify: { event: 'dispense' }, value: 40, threshold: 5, cooldown: '1d', channels: ['push'] });
    await checker.waitFor('campaign ok', () => responses('campaign').length === 2);
    expect(responses('campaign')[1]).toEqual({ status: 'ok', data: { campaign: 'descale', result: 'added' } });

    // consent: the new campaign is default deny until the household (here: upstream) grants it
    pub('consent', { profile: 'home-a', campaign: 'descale', granted: true, transaction: 'c1' });
    await checker.waitFor('consent response', () => responses('consent').length === 1);
    expect(responses('consent')[0]).toMatchObject({ status: 'ok', data: { applied: true }, transaction: 'c1' });
    const a = new DeviceLink(agent, 'scale-a');
    a.send(HELLO_SCALE('scale-a'), dispense(1));
    await checker.waitFor('descale signal', () => signals().some((s) => s.campaign === 'descale'));

    // an older upstream grant never undoes a newer withdrawal
    pub('consent', { profile: 'home-a', campaign: 'descale', granted: false, transaction: 'c2' });
    pub('consent', { profile: 'home-a', campaign: 'descale', granted: true, at: Date.now() - 3_600_000, transaction: 'c3' });
    await checker.waitFor('consent responses', () => responses('consent').length === 3);
    expect(responses('consent')[2]).toMatchObject({ status: 'ok', data: { applied: false, reason: expect.stringMatching(/newer decision/) } });

    // garbage and unknown requests get an error answer
    pub('consent', 'not json');
    pub('reboot', { transaction: 'x' });
    await checker.waitFor('error answers', () => responses('consent').length === 4 && responses('reboot').length === 1);
    expect(responses('consent')[3]).toMatchObject({ status: 'error', error: 'payload is not JSON' });
    expect(responses('reboot')[0]).toMatchObject({ status: 'error', error: expect.stringMatching(/unknown request set\/reboot/) });
    expect(agent.status().upstream.downlink).toMatchObject({ accepted: 5, rejected: 5 });

    // the downlinked campaign survives a restart
    await agent.stop();
    agent = new Agent(household(t.dir, { url: broker.url }), { logger: silentLogger, drivers: [], api: false });
    await agent.start();
    expect(agent.config.campaigns.map((c) => c.id)).toContain('descale');
  }, 60_000);
});

(hasMosquitto && hasClients && hasOpenssl ? describe : describe.skip)('uplink credentials and TLS (real Mosquitto)', () => {
  let t: ReturnType<typeof tempDir>;
  let ca: TestCa;
  beforeAll(() => {
    t = tempDir();
    ca = makeTestCa(path.join(t.dir, 'pki'));
  });
  afterAll(() => t.cleanup());

  it('wrong password gives a clear error in status; the right one delivers', async () => {
    const broker = new Mosquitto(await freePort(), { user: { name: 'gw', password: 's3cret' } });
    await broker.start();
    const dir = tempDir();
    let agent = new Agent(household(dir.dir, { url: broker.url, username: 'gw', password: 'wrong' }), { logger: silentLogger, drivers: [], api: false });
    try {
      await agent.start();
      await waitUntil('auth error', () => /bad username or password|not authorized/.test(agent.status().upstream.error ?? ''));
      expect(agent.status().upstream.connected).toBe(false);
      await agent.stop();
      agent = new Agent(household(dir.dir, { url: broker.url, username: 'gw', password: 's3cret' }), { logger: silentLogger, drivers: [], api: false });
      await agent.start();
      await waitUntil('connected', () => agent.status().upstream.connected);
      await waitUntil('receipts delivered', () => agent.status().outbox.pending === 0);
      expect(agent.status().upstream.error).toBeNull();
    } finally {
      await agent.stop();
      await broker.dispose();
      dir.cleanup();
    }
  }, 30_000);

  it('mqtts with the test CA and a client certificate delivers; a wrong CA or no client certificate is a clear error', async () => {
    const tlsPort = await freePort();
    const broker = new Mosquitto(await freePort(), { tls: { port: tlsPort, ca: ca.ca, cert: ca.serverCert, key: ca.serverKey, requireClientCert: true } });
    await broker.start();
    const checker = new MqttChecker(broker.port, ['edge/#']);
    await checker.start();
    const dir = tempDir();
    const url = broker.tlsUrl;
    const run = async (u: Partial<UpstreamConfig>, until: (a: Agent) => boolean, what: string): Promise<Agent> => {
      const agent = new Agent(household(dir.dir, { url, ...u }), { logger: silentLogger, drivers: [], api: false });
      await agent.start();
      try {
        await waitUntil(what, () => until(agent));
      } catch (err) {
        await agent.stop();
        throw new Error(`${(err as Error).message}; status error: ${agent.status().upstream.error}`);
      }
      return agent;
    };
    try {
      const wrongCa = await run({ ca: ca.otherCa, cert: ca.clientCert, key: ca.clientKey }, (a) => /TLS: cannot verify/.test(a.status().upstream.error ?? ''), 'TLS verify error');
      expect(wrongCa.status().upstream.error).toMatch(/set upstream\.ca/);
      await wrongCa.stop();
      const noCert = await run({ ca: ca.ca }, (a) => (a.status().upstream.error ?? '') !== '' && !a.status().upstream.connected, 'client cert refusal');
      expect(noCert.status().upstream.connected).toBe(false);
      await noCert.stop();
      const ok = await run({ ca: ca.ca, cert: ca.clientCert, key: ca.clientKey }, (a) => a.status().upstream.connected, 'TLS connect');
      const link = new DeviceLink(ok, 'scale-a');
      link.send(HELLO_SCALE('scale-a'), dispense(1));
      await checker.waitFor('signal over TLS', () => checker.on('edge/gw-sync/signals').length > 0);
      await ok.stop();
    } finally {
      await checker.stop();
      await broker.dispose();
      dir.cleanup();
    }
  }, 60_000);
});
