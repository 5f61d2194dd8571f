import { Agent } from '../../agent/controller';
import type { AgentConfig } from '../../agent/config';
import { cfg } from './wearable-household';
import { silentLogger } from '../../agent/logger';
import { tempDir } from '../support/temp-dir';

describe('consent sources and their rules', () => {
  let t: ReturnType<typeof tempDir>;
  let agent: Agent;
  beforeEach(() => (t = tempDir()));
  afterEach(async () => {
    await agent.stop();
    t.cleanup();
  });
  const start = async (c: AgentConfig): Promise<Agent> => {
    agent = new Agent(c, { logger: silentLogger, drivers: [], api: false });
    await agent.start();
    return agent;
  };

  it.each([
    // deviceButtonMayGrant, button press (s, g), allowed after?
    [[], 'usage', true, false, 'not allowed by config'],
    [['usage'], 'usage', true, true, 'allowed by config'],
    [['*'], 'usage', true, true, 'wildcard allows non-special'],
    [['*'], 'health', true, false, 'special category never by button'],
    [['*'], 'device', true, true, 'device-wide grant with wildcard allowed'],
    [[], 'device', true, false, 'device-wide grant not allowed'],
  ] as Array<[Array<'usage' | '*'>, string, boolean, boolean, string]>)('button may grant %j → %s: %s (%s)', async (may, s, g, allowed) => {
    await start(cfg(t.dir, { deviceButtonMayGrant: may }));
    const before = agent.ledger.length;
    const r = agent.consent.fromDevice('wear-1', s, g, ['usage', 'health'], Date.now());
    expect(r.applied).toBe(allowed);
    expect(agent.ledger.length).toBe(allowed ? before + (s === 'device' ? 1 : 1) : before);
    const probe = s === 'device' ? 'usage' : s;
    expect(agent.ledger.rules.deviceAllows('wear-1', probe)).toBe(allowed);
    if (!allowed) expect(r.reason).toMatch(/config|special/);
  });

  it('the button may always withdraw, including "device" = everything, special categories included', async () => {
    await start(cfg(t.dir, { grants: [{ device: 'wear-1', category: 'health' }, { device: 'wear-1', category: 'usage' }] }));
    expect(agent.ledger.rules.deviceAllows('wear-1', 'health')).toBe(true);
    agent.consent.fromDevice('wear-1', 'device', false, ['usage', 'health'], Date.now());
    expect(agent.ledger.rules.deviceAllows('wear-1', 'health')).toBe(false);
    expect(agent.ledger.rules.deviceAllows('wear-1', 'usage')).toBe(false);
    expect(agent.ledger.entries().filter((e) => e.source === 'device').every((e) => !e.granted)).toBe(true);
  });

  it('an older upstream grant never undoes a newer withdrawal; a newer one applies', async () => {
    await start(cfg(t.dir));
    const t0 = Date.UTC(2026, 10, 1);
    agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: false, source: 'upstream', at: t0 + 1000 });
    const stale = agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: true, source: 'upstream', at: t0 });
    expect(stale.applied).toBe(false);
    expect(stale.reason).toMatch(/newer decision \(withdrawn/);
    expect(agent.ledger.rules.campaignAllows('home-a', 'c')).toBe(false);
    const fresh = agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: true, source: 'upstream', at: t0 + 2000 });
    expect(fresh.applied).toBe(true);
    expect(fresh.entry?.source).toBe('upstream');
    expect(agent.ledger.rules.campaignAllows('home-a', 'c')).toBe(true);
  });

  it('household first: upstream never grants over a household withdrawal, a special category or "*", nor dates an entry ahead', async () => {
    await start(cfg(t.dir));
    const now = Date.now();
    agent.consent.change({ scope: 'campaign', subject: 'home-a', target: 'c', granted: false, source: 'panel' }, now);
    // dated after the withdrawal (within the clock-skew bound) and dated later still: both refused
    for (const at of [now + 60_000, now + 10 * 60_000]) {
      const r = agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: true, source: 'upstream', at }, now + 1000);
      expect(r).toMatchObject({ applied: false, refused: true });
    }
    expect(agent.ledger.rules.campaignAllows('home-a', 'c')).toBe(false);
    // an upstream withdrawal then grant does not lift the household's withdrawal either
    agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: false, source: 'upstream', at: now + 2000 }, now + 2000);
    expect(agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: true, source: 'upstream', at: now + 3000 }, now + 3000).refused).toBe(true);
    // the household grants again: upstream may change it from then on
    agent.consent.change({ scope: 'campaign', subject: 'home-a', target: 'c', granted: true, source: 'cli' }, now + 4000);
    agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: false, source: 'upstream', at: now + 5000 }, now + 5000);
    expect(agent.consent.fromUpstream({ scope: 'campaign', subject: 'home-a', target: 'c', granted: true, source: 'upstream', at: now + 6000 }, now + 6000).applied).toBe(true);
    // special categories and the wildcard: never granted from upstream; withdrawing them is allowed
    for (const target of ['health', 'biometric', '*']) {
      const r = agent.consent.fromUpstream({ scope: 'device', subject: 'wear-1', target, granted: true, source: 'upstream', at: now + 7000 }, now + 7000);
      expect(r.refused).toBe(true);
    }
    expect(agent.consent.fromUpstream({ scope: 'device', subject: 'wear-1', target: 'health', granted: false, source: 'upstream', at: now + 8000 }, now + 8000).applied).toBe(true);
    // a device-wide withdrawal by the household covers each category against an upstream grant
    agent.consent.fromDevice('wear-1', 'device', false, ['usage'], now + 9000);
    expect(agent.consent.fromUpstream({ scope: 'device', subject: 'wear-1', target: 'usage', granted: true, source: 'upstream', at: now + 10_000 }, now + 10_000).refused).toBe(true);
    const ats = agent.ledger.entries().map((e) => e.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    expect(Math.max(...ats)).toBeLessThanOrEqual(now + 10_000);
  });

  it('a policy bump requires re-consent for the named category only', async () => {
    await start(cfg(t.dir, { grants: [{ device: 'wear-1', category: 'health' }, { device: 'wear-1', category: 'usage' }] }));
    await agent.stop();
    await start(cfg(t.dir, { policyVersion: 2, requirePolicy: { health: 2 } }));
    expect(agent.ledger.rules.deviceAllows('wear-1', 'health')).toBe(false); // given under v1
    expect(agent.ledger.rules.deviceAllows('wear-1', 'usage')).toBe(true);
    agent.changeConsent({ scope: 'device', subject: 'wear-1', target: 'health', granted: true, source: 'panel' });
    expect(agent.ledger.rules.deviceAllows('wear-1', 'health')).toBe(true);
    expect(agent.ledger.entries().at(-1)?.policyVersion).toBe(2);
  });

  it('config grants never re-grant what the household later withdrew', async () => {
    const c = cfg(t.dir, { grants: [{ device: 'wear-1', category: 'usage' }] });
    await start(c);
    agent.changeConsent({ scope: 'device', subject: 'wear-1', target: 'usage', granted: false, source: 'panel' });
    await agent.stop();
    await start(c);
    expect(agent.ledger.rules.deviceAllows('wear-1', 'usage')).toBe(false);
  });
});
