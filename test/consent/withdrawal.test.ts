import * as fc from 'fast-check';
import mqtt from 'mqtt';
import { Agent } from '../../agent/controller';
import type { AgentConfig } from '../../agent/config';
import { testConfig } from '../support/test-config';
import { TEST_TUNING, TWO_SCALES, bothScalesGrant } from '../sync/household';
import { silentLogger } from '../../agent/logger';
import { DeviceLink, HELLO_SCALE, allAnswered, dispense, reading, settle } from '../support/device-link';
import { waitUntil } from '../support/wait-until';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { TcpProxy } from '../support/tcp-proxy';
import { tempDir } from '../support/temp-dir';

function household(dataDir: string, upstreamUrl?: string): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-consent',
    ...(upstreamUrl ? { upstream: { url: upstreamUrl } } : {}),
    devices: TWO_SCALES,
    campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: 50, threshold: 1e9, channels: ['push'] }],
    ...TEST_TUNING,
    consent: { grants: bothScalesGrant(['coffee']) },
  });
}

const signalCount = (agent: Agent, profile: string): number =>
  (agent.database.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'signal' AND profile = ?").get(profile) as { n: number }).n;

(hasMosquitto ? describe : describe.skip)('withdrawal with a queue and the upstream down (real Mosquitto)', () => {
  it('none of 10,000 queued signals in the withdrawn scope is published after reconnect; others are', async () => {
    const t = tempDir();
    const broker = new Mosquitto(await freePort());
    // The agent reaches the broker through a proxy that stays closed until the uplink "comes back".
    const uplink = new TcpProxy(await freePort(), broker.port);
    const agent = new Agent(household(t.dir, uplink.url), { logger: silentLogger, drivers: [], api: false });
    try {
      await broker.start();
      await agent.start(); // uplink is down: the agent keeps collecting offline
      const a = new DeviceLink(agent, 'scale-a');
      const b = new DeviceLink(agent, 'scale-b');
      a.send(HELLO_SCALE('scale-a'));
      b.send(HELLO_SCALE('scale-b'));
      for (let i = 1; i <= 10_000; i++) a.send(dispense(i));
      for (let i = 1; i <= 50; i++) b.send(dispense(i));
      await allAnswered(agent);
      expect(signalCount(agent, 'home-a')).toBe(10_000);
      expect(agent.status().upstream.connected).toBe(false);

      const res = agent.changeConsent({ scope: 'campaign', subject: 'home-a', target: 'coffee', granted: false, source: 'cli' });
      expect(res.purged.outbox).toBe(10_000);
      expect(signalCount(agent, 'home-a')).toBe(0);

      // A subscriber watches everything the gateway publishes; then the uplink comes back.
      const sub = mqtt.connect(broker.url, { reconnectPeriod: 200 });
      const seen: Array<{ profile: string }> = [];
      const receipts: Array<{ state: string; piiPrincipal: { id: string } }> = [];
      sub.on('message', (topic, payload) => {
        if (topic.endsWith('/state')) return;
        const doc = JSON.parse(payload.toString()) as { signals?: Array<{ profile: string }>; receipts?: typeof receipts };
        if (topic.endsWith('/signals')) seen.push(...(doc.signals ?? []));
        if (topic.endsWith('/consent')) receipts.push(...(doc.receipts ?? []));
      });
      await new Promise<void>((resolve) => sub.on('connect', () => sub.subscribe('edge/#', { qos: 1 }, () => resolve())));
      await uplink.open();
      await waitUntil("home-b's 50 signals upstream", () => seen.filter((s) => s.profile === 'home-b').length >= 50, 10_000);
      sub.end(true);

      expect(seen.filter((s) => s.profile === 'home-b')).toHaveLength(50); // the uplink really works…
      expect(seen.filter((s) => s.profile === 'home-a')).toHaveLength(0); // …and nothing withdrawn left
      expect(receipts.some((r) => r.state === 'withdrawn' && r.piiPrincipal.id === 'home-a')).toBe(true);
      // acked rows are deleted in a group within ~20 ms of their PUBACK
      await waitUntil('the outbox drained', () => agent.status().outbox.pending === 0, 5_000);
    } finally {
      await agent.stop();
      await uplink.close();
      await broker.dispose();
      t.cleanup();
    }
  }, 60_000);
});

type Op =
  | { op: 'reading' }
  | { op: 'event' }
  | { op: 'device'; granted: boolean }
  | { op: 'campaign'; granted: boolean }
  | { op: 'restart' };

describe('no stored row, engagement count or publishable signal contradicts consent (property, real SQLite)', () => {
  it('matches an oracle over random interleavings of grants, withdrawals, data and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: fc.constant<Op>({ op: 'reading' }) },
            { weight: 4, arbitrary: fc.constant<Op>({ op: 'event' }) },
            { weight: 2, arbitrary: fc.boolean().map<Op>((granted) => ({ op: 'device', granted })) },
            { weight: 2, arbitrary: fc.boolean().map<Op>((granted) => ({ op: 'campaign', granted })) },
            { weight: 1, arbitrary: fc.constant<Op>({ op: 'restart' }) },
          ),
          { minLength: 5, maxLength: 25 },
        ),
        async (ops) => {
          const t = tempDir();
          const cfg = household(t.dir);
          cfg.consent.grants = []; // start from default deny
          let agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false });
          await agent.start();
          let link = new DeviceLink(agent, 'scale-a');
          link.send(HELLO_SCALE('scale-a'));
          // Oracle state.
          let device = false;
          let campaign = false;
          let storedReadings = 0;
          let storedEvents = 0;
          let f = 0;
          let seq = 1;
          try {
            for (const o of ops) {
              switch (o.op) {
                case 'reading':
                  link.send(reading(seq++));
                  if (device) storedReadings++;
                  break;
                case 'event':
                  link.send(dispense(seq++));
                  if (device) storedEvents++;
                  if (device && campaign) f++;
                  break;
                case 'device':
                  agent.changeConsent({ scope: 'device', subject: 'scale-a', target: 'usage', granted: o.granted, source: 'cli' });
                  if (!o.granted) f = 0; // that device's contribution is erased
                  device = o.granted;
                  break;
                case 'campaign':
                  agent.changeConsent({ scope: 'campaign', subject: 'home-a', target: 'coffee', granted: o.granted, source: 'cli' });
                  if (!o.granted) f = 0;
                  campaign = o.granted;
                  break;
                case 'restart':
                  await agent.stop();
                  agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false });
                  await agent.start();
                  link = new DeviceLink(agent, 'scale-a');
                  link.send(HELLO_SCALE('scale-a'));
                  break;
              }
              await settle(8);
              const db = agent.database;
              expect((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n).toBe(storedReadings);
              expect((db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(storedEvents);
              const row = agent.status().engagement.find((e) => e.profile === 'home-a');
              expect(row?.f ?? 0).toBe(f);
              // Nothing queued may be publishable while the campaign is withdrawn.
              const queued = agent.outbox.peek(100_000).filter((r) => r.kind === 'signal');
              for (const r of queued) expect(agent.engagement.publishable(r) !== null).toBe(campaign);
              expect(agent.ledger.verify().ok).toBe(true);
            }
          } finally {
            await agent.stop();
            t.cleanup();
          }
        },
      ),
      { numRuns: 25, seed: 424242 },
    );
  }, 120_000);
});
