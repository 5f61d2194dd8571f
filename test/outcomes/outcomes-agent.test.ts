import { Agent } from '../../agent/controller';
import type { AgentConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import { renderMetrics } from '../../agent/api/metrics';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE, allAnswered, dispense } from '../support/device-link';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';
import { testConfig } from '../support/test-config';

const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1, 8);

function household(dataDir: string): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-outcomes',
    devices: [
      { id: 'scale-a', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' },
      { id: 'scale-b', transport: 'sim', model: 'kitchen-scale', profile: 'home-b' },
      { id: 'presence-a', transport: 'sim', model: 'presence', profile: 'home-a' },
    ],
    campaigns: [
      {
        id: 'coffee',
        qualify: { event: 'dispense' },
        value: 50,
        threshold: 30,
        channels: ['push', 'device'],
        conversion: { events: ['reorder'], attributionWindow: '7d' },
        dwell: { within: '30m', cap: '2h' },
      },
    ],
    engagement: { signalIntervalS: 0 },
    storage: { maxBytes: 1 << 30, groupCommitMs: 2 },
    consent: {
      grants: [
        { device: 'scale-a', category: 'usage' },
        { device: 'scale-b', category: 'usage' },
        { device: 'presence-a', category: 'presence' },
        { profile: 'home-a', campaign: 'coffee' },
        { profile: 'home-b', campaign: 'coffee' },
        { profile: 'home-a', channel: 'push' },
        { profile: 'home-b', channel: 'push' },
        { profile: 'home-a', channel: 'device' },
      ],
    },
  });
}

const HELLO_PRESENCE: DeviceFrame = {
  type: 'hello',
  seq: 0,
  body: { id: 'presence-a', fw: '1.0', model: 'presence', ch: [{ n: 1, k: 'event', c: 'presence' }] },
};
const ev = (seq: number, e: string, ch: number): DeviceFrame => ({ type: 'event', seq, body: { e, ch } });

describe('campaign outcomes in a running agent (real SQLite, consent, restart)', () => {
  let t: ReturnType<typeof tempDir>;
  let now: number;
  let agent: Agent;
  const start = async (): Promise<Agent> => {
    const a = new Agent(household(t.dir), {
      logger: silentLogger,
      drivers: [],
      api: false,
      clock: () => now,
    });
    await a.start();
    return a;
  };
  beforeEach(() => {
    t = tempDir();
    now = T0;
  });
  afterEach(async () => {
    await agent.stop();
    t.cleanup();
  });
  const coffee = (a: Agent) => a.status().outcomes!.campaigns.find((c) => c.campaign === 'coffee')!;
  const rows = (a: Agent, table: string, profile: string): number =>
    (a.database.prepare(`SELECT count(*) AS n FROM ${table} WHERE profile = ?`).get(profile) as { n: number })
      .n;

  it("counts triggers, conversions, dwell; survives a restart; a withdrawal removes that household's contribution", async () => {
    agent = await start();
    const a = new DeviceLink(agent, 'scale-a');
    const b = new DeviceLink(agent, 'scale-b');
    const p = new DeviceLink(agent, 'presence-a');
    a.send(HELLO_SCALE('scale-a'));
    b.send(HELLO_SCALE('scale-b'));
    p.send(HELLO_PRESENCE);
    // day 0: a reorder before any trigger (kept for the reorder cycle, converts nothing), then both households trigger
    a.send(ev(1, 'reorder', 2));
    now += MIN;
    a.send(dispense(2));
    b.send(dispense(1));
    await waitUntil('two triggers recorded', () => coffee(agent).triggers === 2);
    // 10 min after home-a's trigger someone stays 25 min at the presence sensor; a baseline stay the next day
    now += 10 * MIN;
    p.send(ev(1, 'presence_start', 1));
    now += 25 * MIN;
    p.send(ev(2, 'presence_end', 1));
    now = T0 + DAY;
    p.send(ev(3, 'presence_start', 1));
    now += 5 * MIN;
    p.send(ev(4, 'presence_end', 1));
    // day 3: home-a reorders (converts its trigger); home-b never does
    now = T0 + 3 * DAY;
    a.send(ev(3, 'reorder', 2));
    await allAnswered(agent); // every frame committed and answered
    await agent.outcomes.settled();

    const c = coffee(agent);
    expect(c).toMatchObject({
      households: 2,
      triggers: 2,
      converted: 1,
      conversionRate: 0.5,
      purchases: 2,
      unattributedPurchases: 1,
    });
    expect(c.dwell.triggered).toEqual({ sessions: 1, medianMinutes: 25, meanMinutes: 25 });
    expect(c.dwell.baseline).toEqual({ sessions: 1, medianMinutes: 5, meanMinutes: 5 });
    // channel device (home-a only allows it): no driver holds scale-a, so the notify could not be sent: failed
    expect(c.delivery).toEqual({ delivered: 0, failed: 1, pending: 0, none: 1 });
    expect(agent.status().outcomes!.recentTriggers.find((x) => x.profile === 'home-a')).toMatchObject({
      campaign: 'coffee',
      delivery: 'failed',
      error: expect.stringMatching(/not connected/),
    });
    const metrics = renderMetrics(agent.status());
    expect(metrics).toContain('edge_agent_outcome_conversion_rate{campaign="coffee"} 0.5');
    expect(metrics).toContain('edge_agent_trigger_delivery{campaign="coffee",state="failed"} 1');
    expect(metrics).toContain(
      'edge_agent_outcome_dwell_median_minutes{campaign="coffee",group="triggered"} 25',
    );

    // restart: everything the metrics need was persisted
    await agent.stop();
    agent = await start();
    expect(coffee(agent)).toMatchObject({ triggers: 2, converted: 1, conversionRate: 0.5, purchases: 2 });
    expect(coffee(agent).dwell.triggered.sessions).toBe(1);

    // home-a withdraws its consent to the campaign: its triggers, purchases, presence and samples are erased
    expect(rows(agent, 'index_samples', 'home-a')).toBeGreaterThan(0);
    agent.changeConsent({
      scope: 'campaign',
      subject: 'home-a',
      target: 'coffee',
      granted: false,
      source: 'cli',
    });
    expect(coffee(agent)).toMatchObject({
      households: 1,
      triggers: 1,
      converted: 0,
      conversionRate: 0,
      purchases: 0,
    });
    expect(coffee(agent).dwell.triggered.sessions + coffee(agent).dwell.baseline.sessions).toBe(0);
    for (const table of ['outcome_triggers', 'outcome_events', 'index_samples'])
      expect(rows(agent, table, 'home-a')).toBe(0);

    // and nothing more is counted for it while the withdrawal holds
    const a2 = new DeviceLink(agent, 'scale-a');
    a2.send(HELLO_SCALE('scale-a'));
    a2.send(ev(10, 'reorder', 2));
    await allAnswered(agent); // every frame committed and answered
    expect(rows(agent, 'outcome_events', 'home-a')).toBe(0);
  });

  it('a device-layer withdrawal erases only what that device contributed', async () => {
    agent = await start();
    const a = new DeviceLink(agent, 'scale-a');
    const p = new DeviceLink(agent, 'presence-a');
    a.send(HELLO_SCALE('scale-a'));
    p.send(HELLO_PRESENCE);
    a.send(ev(1, 'reorder', 2));
    p.send(ev(1, 'presence_start', 1));
    now += 5 * MIN;
    p.send(ev(2, 'presence_end', 1));
    a.send(dispense(2));
    await allAnswered(agent); // every frame committed and answered
    expect(rows(agent, 'outcome_events', 'home-a')).toBe(3);
    expect(rows(agent, 'index_samples', 'home-a')).toBeGreaterThan(0);
    agent.changeConsent({
      scope: 'device',
      subject: 'presence-a',
      target: 'presence',
      granted: false,
      source: 'cli',
    });
    expect(rows(agent, 'outcome_events', 'home-a')).toBe(1);
    expect(coffee(agent).purchases).toBe(1);
    // the household's index history goes with the device's data; its trigger stays (campaign consent holds)
    expect(rows(agent, 'index_samples', 'home-a')).toBe(0);
    expect(coffee(agent).triggers).toBe(1);
  });

  it('opt-out rates follow consent at once, also a re-grant that writes no outcome rows', async () => {
    agent = await start();
    const optOut = () => agent.status().outcomes!.optOutByDeviceType.find((r) => r.type === 'kitchen-scale');
    expect(optOut()).toMatchObject({ devices: 2, optedOut: 0 });
    agent.changeConsent({
      scope: 'device',
      subject: 'scale-b',
      target: 'usage',
      granted: false,
      source: 'cli',
    });
    expect(optOut()).toMatchObject({ devices: 2, optedOut: 1, rate: 0.5 });
    agent.changeConsent({
      scope: 'device',
      subject: 'scale-b',
      target: 'usage',
      granted: true,
      source: 'cli',
    });
    expect(optOut()).toMatchObject({ devices: 2, optedOut: 0, rate: 0 });
  });

  it('queues one aggregate outcomes signal per campaign, with no profile ids in it', async () => {
    agent = await start();
    const a = new DeviceLink(agent, 'scale-a');
    a.send(HELLO_SCALE('scale-a'));
    a.send(dispense(1));
    await waitUntil('trigger', () => coffee(agent).triggers === 1);
    expect(agent.outcomes.enqueueSignals(now)).toBe(1);
    expect(agent.outcomes.enqueueSignals(now)).toBe(1); // the unsent older aggregate is replaced, not stacked
    const queued = () =>
      agent.database
        .prepare("SELECT campaign, profile, payload FROM outbox WHERE kind = 'outcomes'")
        .all() as Array<{ campaign: string; profile: string | null; payload: string }>;
    await waitUntil('the aggregate committed', () => queued().length > 0); // both enqueues share one group commit
    const q = queued();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ campaign: 'coffee', profile: null });
    expect(q[0].payload).not.toMatch(/home-a|scale-a/);
    expect(JSON.parse(q[0].payload)).toMatchObject({ campaign: 'coffee', triggers: 1, households: 1 });
  });
});
