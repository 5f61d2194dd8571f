import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { seededRandom } from '../../drivers/sim/sim-driver';
import { household } from '../sync/household';
import { TcpProxy } from '../support/tcp-proxy';
import { DeviceLink, HELLO_SCALE, dispense } from '../support/device-link';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { MqttChecker, hasMosquittoClients } from '../support/mqtt-checker';
import { makeTestCa } from '../support/test-ca';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

interface Signal {
  id: string;
  profile: string;
  f: number;
}

const seed = Number(process.env.UPLINK_SEED ?? Date.now() % 1_000_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two devices sending dispense events at ~`perSecond` in all, each acked frame one signal (signalIntervalS 0). */
function produce(agent: Agent, perSecond: number): { stop: () => void; acked: () => Record<string, number> } {
  const a = new DeviceLink(agent, 'scale-a');
  const b = new DeviceLink(agent, 'scale-b');
  a.send(HELLO_SCALE('scale-a'));
  b.send(HELLO_SCALE('scale-b'));
  let seq = 1;
  const timer = setInterval(() => {
    for (let i = 0; i < perSecond / 50; i++, seq++) (seq % 2 ? a : b).send(dispense(seq));
  }, 20);
  return {
    stop: () => clearInterval(timer),
    acked: () => ({ 'home-a': new Set(a.acks()).size, 'home-b': new Set(b.acks()).size }),
  };
}

/**
 * The upstream checks: per profile the signals' f values are exactly 1..acked (nothing lost, nothing counted
 * twice), a re-send is the same id with the same content, and in first-arrival order f only grows (order kept).
 */
function judge(checkers: MqttChecker[], acked: Record<string, number>): { copies: number; unique: number } {
  const byId = new Map<string, Set<string>>();
  const firstArrival = new Map<string, number[]>();
  let copies = 0;
  for (const c of checkers) {
    for (const batch of c.json<{ signals: Signal[] }>('edge/gw-sync/signals')) {
      for (const s of batch.signals) {
        copies++;
        const seen = byId.get(s.id);
        if (seen) {
          seen.add(JSON.stringify(s));
          continue;
        }
        byId.set(s.id, new Set([JSON.stringify(s)]));
        firstArrival.set(s.profile, [...(firstArrival.get(s.profile) ?? []), s.f]);
      }
    }
  }
  expect([...byId].filter(([, v]) => v.size > 1).map(([id]) => id)).toEqual([]);
  for (const [profile, n] of Object.entries(acked)) {
    const fs = firstArrival.get(profile) ?? [];
    expect({ profile, n: fs.length }).toEqual({ profile, n });
    expect(fs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  }
  return { copies, unique: byId.size };
}

(hasMosquitto && hasMosquittoClients ? describe : describe.skip)(`uplink faults while the agent keeps collecting (real Mosquitto, seed ${seed})`, () => {
  it('a slow link cut mid-batch, a flapping broker and a long outage: everything arrives, in order, re-sends identical', async () => {
    process.stdout.write(`uplink faults seed ${seed} (reproduce: UPLINK_SEED=${seed})\n`);
    const rng = seededRandom(seed);
    const t = tempDir();
    const broker = new Mosquitto(await freePort(), { persistence: true });
    await broker.start();
    const checker = new MqttChecker(broker.port, ['edge/gw-sync/signals'], `uplink-${seed}`);
    await checker.start();
    const proxy = new TcpProxy(await freePort(), broker.port);
    await proxy.open();
    const agent = new Agent(household(t.dir, { url: proxy.url, batch: { maxRows: 50, maxBytes: 65536, delayMs: 20 } }), { logger: silentLogger, drivers: [], api: false });
    let producer: ReturnType<typeof produce> | null = null;
    try {
      await agent.start();
      producer = produce(agent, 250);
      // 1. slow (80 ms each way) and cut at random moments, mid-batch
      proxy.latencyMs = 80;
      for (let end = Date.now() + 6000; Date.now() < end; ) {
        await sleep(200 + rng() * 700);
        proxy.cut();
      }
      proxy.latencyMs = 0;
      // 2. the broker restarts five times in a row
      for (let i = 0; i < 5; i++) {
        await broker.stop();
        await sleep(200 + rng() * 400);
        await broker.start();
        await sleep(400 + rng() * 1000);
      }
      // 3. a long outage (relative to the reconnect backoff of 50–300 ms: many failed attempts)
      await broker.stop();
      await sleep(4000);
      expect(agent.status().outbox.pending).toBeGreaterThan(100); // the backlog the outage built
      await broker.start();
      await sleep(1000);
      producer.stop();
      await sleep(500); // acks follow the WAL fsync: let the last ones arrive
      const acked = producer.acked();
      const total = acked['home-a'] + acked['home-b'];
      await checker.waitFor(`${total} signals`, () => new Set(checker.json<{ signals: Signal[] }>('edge/gw-sync/signals').flatMap((b) => b.signals.map((s) => s.id))).size >= total, 60_000);
      await waitUntil('outbox empty', () => agent.status().outbox.pending === 0, 10_000);
      const r = judge([checker], acked);
      process.stdout.write(`uplink faults: ${total} signals, ${r.copies - r.unique} re-sent copies, ${proxy.stats.cuts} cuts, ${agent.status().upstream.connects} connects\n`);
      expect(proxy.stats.cuts).toBeGreaterThan(3);
      expect(total).toBeGreaterThan(3000);
    } finally {
      producer?.stop();
      await agent.stop();
      await checker.stop();
      await proxy.close();
      await broker.dispose();
      t.cleanup();
    }
  }, 120_000);

  it('credentials refused until the broker account is fixed, then the TLS certificate changes: no restart, nothing lost', async () => {
    const t = tempDir();
    const port = await freePort();
    const tlsPort = await freePort();
    // The CAs live outside the agent's data directory: the agent makes that private (0700), and the broker,
    // dropped to its own user, must still read its certificates.
    const certs = tempDir();
    const ca1 = makeTestCa(path.join(certs.dir, 'ca1'));
    const ca2 = makeTestCa(path.join(certs.dir, 'ca2'));
    const caFile = path.join(t.dir, 'broker-ca.pem'); // what upstream.ca points at: re-read at every connection
    fs.copyFileSync(ca1.ca, caFile);
    const tls = (ca: typeof ca1): { port: number; ca: string; cert: string; key: string } => ({ port: tlsPort, ca: ca.ca, cert: ca.serverCert, key: ca.serverKey });
    // The broker's account for the gateway has the wrong password at first.
    let broker = new Mosquitto(port, { tls: tls(ca1), user: { name: 'gw', password: 'not-what-the-gateway-has' } });
    await broker.start();
    // TLS passes through this TCP proxy untouched; closing it while a broker is swapped lets the checker
    // subscribe before the agent can publish anything.
    const gate = new TcpProxy(await freePort(), tlsPort);
    await gate.open();
    const agent = new Agent(household(t.dir, { url: `mqtts://127.0.0.1:${gate.port}`, ca: caFile, username: 'gw', password: 's3cret' }), { logger: silentLogger, drivers: [], api: false });
    const checkers: MqttChecker[] = [];
    let producer: ReturnType<typeof produce> | null = null;
    try {
      await agent.start();
      producer = produce(agent, 100);
      await waitUntil('the credentials refused', () => /refused|not authorized/.test(agent.status().upstream.error ?? ''), 10_000);
      await sleep(1000);
      expect(agent.status().outbox.pending).toBeGreaterThan(50); // collecting meanwhile

      // The operator fixes the account: the broker restarts with the right password.
      gate.refusing = true;
      gate.cut();
      await broker.dispose();
      broker = new Mosquitto(port, { tls: tls(ca1), user: { name: 'gw', password: 's3cret' } });
      await broker.start();
      let c = new MqttChecker(port, ['edge/gw-sync/signals'], undefined, { user: 'gw', password: 's3cret' });
      await c.start();
      checkers.push(c);
      gate.refusing = false;
      await waitUntil('connected with the fixed account', () => agent.status().upstream.connected, 15_000);
      await sleep(1500);

      // The broker gets a certificate from another CA: verification fails until upstream.ca has the new CA.
      gate.refusing = true;
      gate.cut();
      await waitUntil('the agent offline', () => !agent.status().upstream.connected, 10_000);
      // The old subscriber is left running (stopping it could lose lines it has not printed yet); it reconnects
      // to the new broker too, and the judge treats what it sees twice as the same signals.
      await broker.dispose();
      broker = new Mosquitto(port, { tls: tls(ca2), user: { name: 'gw', password: 's3cret' } });
      await broker.start();
      c = new MqttChecker(port, ['edge/gw-sync/signals'], undefined, { user: 'gw', password: 's3cret' });
      await c.start();
      checkers.push(c);
      gate.refusing = false;
      await waitUntil('the TLS verification error', () => /TLS: cannot verify/.test(agent.status().upstream.error ?? ''), 15_000);
      await sleep(1000);
      fs.copyFileSync(ca2.ca, caFile);
      await waitUntil('connected with the new CA', () => agent.status().upstream.connected, 15_000);
      await sleep(500);
      producer.stop();
      await sleep(500); // acks follow the WAL fsync: let the last ones arrive
      const acked = producer.acked();
      const total = acked['home-a'] + acked['home-b'];
      await waitUntil('outbox empty', () => agent.status().outbox.pending === 0 && agent.status().upstream.inFlightRows === 0, 20_000);
      await c.waitFor(`all ${total} signals`, () => checkers.reduce((n, k) => n + k.json<{ signals: Signal[] }>('edge/gw-sync/signals').reduce((m, b) => m + b.signals.length, 0), 0) >= total, 20_000);
      judge(checkers, acked);
    } finally {
      producer?.stop();
      await agent.stop();
      for (const c of checkers) await c.stop();
      await gate.close();
      await broker.dispose();
      t.cleanup();
      certs.cleanup();
    }
  }, 120_000);
});
