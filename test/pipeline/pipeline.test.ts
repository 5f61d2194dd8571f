import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import type { AgentConfig, ConfigInput } from '../../agent/config';
import { testConfig } from '../support/test-config';

type Grants = NonNullable<NonNullable<ConfigInput['consent']>['grants']>;
import { silentLogger } from '../../agent/logger';
import { encodeSerialFrame, type DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE as helloScale, dispense, allAnswered, reading } from '../support/device-link';
import { SimDriver } from '../../drivers/sim';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const T0 = Date.UTC(2026, 10, 1);

function config(dataDir: string, grants: Grants): AgentConfig {
  return testConfig(dataDir, {
    devices: [
      { id: 'scale-1', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' },
      { id: 'wear-1', transport: 'sim', model: 'wearable', profile: 'home-a' },
    ],
    campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: 50, threshold: 150, channels: ['push', 'device'] }],
    engagement: { signalIntervalS: 0 },
    storage: { maxBytes: 1 << 28 },
    consent: { grants },
  });
}

const HELLO_SCALE: DeviceFrame = helloScale();
const HELLO_WEAR: DeviceFrame = {
  type: 'hello',
  seq: 0,
  body: { id: 'wear-1', fw: '1.0', model: 'wearable', ch: [{ n: 1, k: 'heart_rate', c: 'health' }] },
};
const Link = DeviceLink;

describe('ingest pipeline (real SQLite file, real codec)', () => {
  let t: ReturnType<typeof tempDir>;
  let agent: Agent;
  let now: number;
  const start = async (grants: Grants, drivers: SimDriver[] = []): Promise<Agent> => {
    agent = new Agent(config(t.dir, grants), { logger: silentLogger, drivers, api: false, clock: () => now });
    await agent.start();
    return agent;
  };
  const count = (table: string): number =>
    (agent.database.prepare(`SELECT count(*) AS n FROM ${table}${table === 'outbox' ? " WHERE kind = 'signal'" : ''}`).get() as { n: number }).n;

  beforeEach(() => {
    t = tempDir();
    now = T0;
  });
  afterEach(async () => {
    await agent?.stop();
    t.cleanup();
  });

  it('default deny: without a device grant nothing is stored, only counters move, and the frame is acked', async () => {
    await start([]);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, reading(1), dispense(2));
    await allAnswered(agent);
    expect(count('readings') + count('events')).toBe(0);
    expect(agent.status().ingest).toMatchObject({ accepted: 0, droppedNoConsent: 2 });
    expect(l.acks()).toEqual([1, 2]);
    // The device was told at hello that it may sample nothing.
    expect(l.sent[0]).toMatchObject({ type: 'consent-state', body: { cats: { usage: false } } });
  });

  it('acks only after the commit, and the row is durable when the ack goes out', async () => {
    await start([{ device: 'scale-1', category: 'usage' }]);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, reading(1));
    expect(l.acks()).toEqual([]); // still in the group-commit window
    await waitUntil('the ack after the commit', () => l.acks().length > 0);
    expect(l.acks()).toEqual([1]);
    expect(count('readings')).toBe(1);
  });

  it('a wildcard grant does not cover health; a named grant does', async () => {
    await start([{ device: 'wear-1', category: '*' }]);
    const l = new Link(agent, 'wear-1');
    l.send(HELLO_WEAR, reading(1, 1, 70));
    await allAnswered(agent);
    expect(count('readings')).toBe(0);
    agent.changeConsent({ scope: 'device', subject: 'wear-1', target: 'health', granted: true, source: 'cli' });
    l.send(reading(2, 1, 71));
    await allAnswered(agent);
    expect(count('readings')).toBe(1);
  });

  it('duplicates since hello are dropped, counted and re-acked; a new hello resets', async () => {
    await start([{ device: 'scale-1', category: 'usage' }]);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, reading(5));
    await allAnswered(agent);
    l.send(reading(5), reading(5));
    await allAnswered(agent);
    expect(count('readings')).toBe(1);
    expect(agent.status().ingest.duplicates).toBe(2);
    expect(l.acks()).toEqual([5, 5, 5]);
    l.send(HELLO_SCALE, reading(5));
    await allAnswered(agent);
    expect(count('readings')).toBe(2);
  });

  it('the duplicate window survives a restart: a committed frame retransmitted after the agent restarts is not stored again', async () => {
    await start([{ device: 'scale-1', category: 'usage' }]);
    let l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, reading(7), dispense(8));
    await allAnswered(agent);
    expect(count('readings') + count('events')).toBe(2);
    // The agent goes away before the device saw those acks (a crash between commit and ack, or a restart);
    // the device, which did not reboot, retransmits both and goes on with seq 9. No hello: it never restarted.
    await agent.stop();
    await start([{ device: 'scale-1', category: 'usage' }]);
    l = new Link(agent, 'scale-1');
    l.send(reading(7), dispense(8), reading(9));
    // seq 9's ack follows its commit's WAL fsync, which returns off the event loop
    await waitUntil('three acks', () => l.acks().length >= 3);
    expect(count('readings') + count('events')).toBe(3);
    expect(agent.status().ingest.duplicates).toBe(2);
    expect(l.acks()).toEqual([7, 8, 9]); // the duplicates are re-acked, so the device stops retransmitting
    // A hello (the device rebooted) starts a new window, on disk too: seq 7 is new again, even after a restart.
    l.send(HELLO_SCALE);
    await allAnswered(agent);
    await agent.stop();
    await start([{ device: 'scale-1', category: 'usage' }]);
    new Link(agent, 'scale-1').send(reading(7));
    await allAnswered(agent);
    expect(count('readings') + count('events')).toBe(4);
  });

  it('garbage, truncated and oversized input is counted per device and the stream resynchronises', async () => {
    await start([{ device: 'scale-1', category: 'usage' }]);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE);
    const good = encodeSerialFrame(reading(1));
    l.wire(Buffer.from([0x13, 0x37, 0x00])); // garbage run
    l.wire(good.subarray(0, 10)); // truncated…
    l.wire(Buffer.from([0x00])); // …then a delimiter: bad frame
    l.wire(Buffer.alloc(2000, 0x41)); // oversized run
    l.wire(Buffer.from([0x00]));
    l.wire(good);
    await allAnswered(agent);
    const dev = agent.status().devices.find((d) => d.id === 'scale-1')!;
    expect(dev.framesBad).toBe(3);
    expect(agent.status().ingest.framesBad).toBe(3);
    expect(count('readings')).toBe(1);
  });

  it('campaign consent gates engagement; triggers go to the outbox and through the device', async () => {
    await start([
      { device: 'scale-1', category: 'usage' },
      { profile: 'home-a', channel: 'device' },
    ]);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, dispense(1));
    await allAnswered(agent);
    expect(count('events')).toBe(1); // stored (device consent)…
    expect(agent.status().engagement).toEqual([]); // …but not counted (no campaign consent)
    expect(count('outbox')).toBe(0);

    agent.changeConsent({ scope: 'campaign', subject: 'home-a', target: 'coffee', granted: true, source: 'cli' });
    l.send(dispense(2), dispense(3), dispense(4));
    await allAnswered(agent);
    const e = agent.status().engagement[0];
    expect(e).toMatchObject({ profile: 'home-a', campaign: 'coffee', f: 3, index: 150, v: 50 });
    expect(count('outbox')).toBe(3);
    const signals = agent.database.prepare("SELECT payload FROM outbox WHERE kind = 'signal' ORDER BY id").all() as Array<{ payload: string }>;
    const last = JSON.parse(signals[2].payload) as { trigger: boolean; channels: string[]; index: number };
    expect(last).toMatchObject({ trigger: true, channels: ['device'], index: 150 });
    expect(l.sent.some((f) => f.type === 'command' && f.body.c === 'notify')).toBe(false); // Link is not a driver
    // The trigger is announced once its batch is durable (the WAL fsync returns off the loop, after the commit).
    await waitUntil('trigger announced', () => agent.status().triggers.total > 0);
    expect(agent.status().triggers.total).toBe(1);
  });

  it('withdrawing campaign consent purges queued signals and engagement state, and says how much', async () => {
    await start([
      { device: 'scale-1', category: 'usage' },
      { profile: 'home-a', campaign: 'coffee' },
    ]);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, dispense(1), dispense(2));
    await allAnswered(agent); // acked frames are committed: the rows below are on disk
    // "engagement" counts every derived row erased: the engine's events and the outcome rows kept for reporting.
    const outcomeTables = ['outcome_events', 'outcome_triggers', 'index_samples'];
    const outcomeRows = outcomeTables.reduce((n, t) => n + count(t), 0);
    expect(count('engagement_events')).toBe(2);
    const res = agent.changeConsent({ scope: 'campaign', subject: 'home-a', target: 'coffee', granted: false, source: 'cli' });
    const purged = { outbox: 2, engagement: 2 + outcomeRows, raw: 0 };
    expect(res.purged).toEqual(purged);
    expect(res.entry).toMatchObject({ granted: false, purged });
    expect(count('outbox')).toBe(0);
    expect(count('engagement_events')).toBe(0);
    for (const t of outcomeTables) expect(count(t)).toBe(0);
    expect(agent.status().engagement).toEqual([]);
    l.send(dispense(3));
    await allAnswered(agent);
    expect(count('outbox')).toBe(0);
  });

  it("the device's privacy button withdraws at once and the device is told to stop sampling", async () => {
    const sim = new SimDriver({ devices: [{ id: 'scale-1', model: 'kitchen-scale', fw: 's', kind: 'kitchen-scale', ratePerMin: 0.0001 }], clock: () => now });
    await start([{ device: 'scale-1', category: 'usage' }], [sim]);
    await allAnswered(agent);
    const dev = sim.device('scale-1')!;
    expect(dev.isWithheld('usage')).toBe(false);
    sim.inject('scale-1', encodeSerialFrame(dev.pressPrivacy('device', false)));
    await allAnswered(agent);
    expect(agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(false);
    expect(dev.isWithheld('usage')).toBe(true); // consent-state 0x83 reached the device
    expect(dev.unacked()).toEqual([]); // the consent frame was acked
    sim.inject('scale-1', encodeSerialFrame(reading(77)));
    await allAnswered(agent);
    expect(count('readings')).toBe(0);
    expect(agent.ledger.verify().ok).toBe(true);
  });

  it('engagement state and counters survive a restart', async () => {
    const grants: Grants = [
      { device: 'scale-1', category: 'usage' },
      { profile: 'home-a', campaign: 'coffee' },
      { profile: 'home-a', channel: 'push' },
    ];
    await start(grants);
    const l = new Link(agent, 'scale-1');
    l.send(HELLO_SCALE, dispense(1), dispense(2), dispense(3));
    await allAnswered(agent);
    const before = agent.status().engagement;
    expect(before[0]).toMatchObject({ f: 3, armed: false });
    await agent.stop();
    now += 3_600_000;
    await start(grants);
    const after = agent.status();
    expect(after.engagement[0]).toMatchObject({ f: 3, armed: false, lastTriggerAt: before[0].lastTriggerAt });
    expect(after.ingest.accepted).toBe(3);
    const l2 = new Link(agent, 'scale-1');
    l2.send(HELLO_SCALE, dispense(1));
    await allAnswered(agent);
    expect(agent.status().engagement[0].f).toBe(4);
    expect(path.basename(agent.database.name)).toBe('edge-agent.db');
  });
});
