import {
  DAY_MS,
  EngagementEngine,
  EngagementError,
  type CampaignRule,
  type EngagementOptions,
  type TriggerGate,
} from '../../agent/engagement';

/** When the engine fires a trigger: the upward crossing, the cooldown, consent and channels, V, F and purges. */
describe('trigger semantics', () => {
  const rule: CampaignRule = { id: 'c', threshold: 100, cooldownMs: 7 * DAY_MS, channels: ['push', 'device'], value: { kind: 'constant', v: 50 } };
  const opts: EngagementOptions = { windowDays: 30, recencyFloorDays: 1, recencyScale: 100 };
  const yes: TriggerGate = { campaignConsent: () => true, allowedChannels: (_p, c) => c };
  const t0 = 1_700_000_000_000;

  it('fires on the upward crossing only, then re-arms after falling below', () => {
    const e = new EngagementEngine(opts, [rule]);
    expect(e.recordEvent('p', 'c', t0, yes).trigger).toBeNull(); // 50
    const up = e.recordEvent('p', 'c', t0 + 1000, yes); // 100 → crosses
    expect(up.index).toBeCloseTo(100);
    expect(up.trigger).toEqual({ channels: ['push', 'device'] });
    expect(e.recordEvent('p', 'c', t0 + 2000, yes).trigger).toBeNull(); // still above: no re-fire
    // Eight days later R = 8 → (100/8)·3·0.5 = 18.75 < 100: re-armed; cooldown (7 d) has passed.
    expect(e.evaluate('p', 'c', t0 + 8 * DAY_MS, yes).trigger).toBeNull();
    const again = e.recordEvent('p', 'c', t0 + 8 * DAY_MS + 1, yes); // F=4, R floored → 200
    expect(again.trigger).not.toBeNull();
  });

  it('a crossing inside the cooldown is blocked and consumed', () => {
    const e = new EngagementEngine(opts, [{ ...rule, cooldownMs: 30 * DAY_MS }]);
    e.recordEvent('p', 'c', t0, yes);
    expect(e.recordEvent('p', 'c', t0 + 1, yes).trigger).not.toBeNull();
    e.evaluate('p', 'c', t0 + 5 * DAY_MS, yes); // R = 5 → 20: falls below, re-arms
    const blocked = e.recordEvent('p', 'c', t0 + 5 * DAY_MS + 1, yes); // F = 3 → 150: crosses inside the cooldown
    expect(blocked.blocked).toBe('cooldown');
    expect(blocked.trigger).toBeNull();
    // The blocked crossing was consumed: staying above the threshold does not fire later, even after the cooldown.
    expect(e.recordEvent('p', 'c', t0 + 31 * DAY_MS, yes).trigger).toBeNull();
  });

  it('the cooldown has passed exactly cooldownMs after the last trigger', () => {
    const cd = 2 * DAY_MS;
    const e = new EngagementEngine(opts, [{ ...rule, cooldownMs: cd }]);
    e.recordEvent('p', 'c', t0, yes);
    expect(e.recordEvent('p', 'c', t0 + 1, yes).trigger).not.toBeNull(); // lastTriggerAt = t0 + 1
    e.evaluate('p', 'c', t0 + 1 + cd - 2, yes); // R ≈ 2 → 50: below, re-armed
    const early = new EngagementEngine(opts, [{ ...rule, cooldownMs: cd }]);
    early.recordEvent('p', 'c', t0, yes);
    early.recordEvent('p', 'c', t0 + 1, yes);
    early.evaluate('p', 'c', t0 + 1 + cd - 2, yes);
    expect(early.recordEvent('p', 'c', t0 + cd, yes).blocked).toBe('cooldown'); // 1 ms short
    expect(e.recordEvent('p', 'c', t0 + 1 + cd, yes).trigger).not.toBeNull(); // exactly elapsed
  });

  const noConsent: TriggerGate = { campaignConsent: () => false, allowedChannels: (_p, c) => c };
  const noChannels: TriggerGate = { campaignConsent: () => true, allowedChannels: () => [] };
  it.each([
    ['consent', noConsent],
    ['channels', noChannels],
  ] as Array<[string, TriggerGate]>)('no %s → no trigger', (reason, gate) => {
    const e = new EngagementEngine(opts, [rule]);
    e.recordEvent('p', 'c', t0, gate);
    const r = e.recordEvent('p', 'c', t0 + 1, gate);
    expect(r.trigger).toBeNull();
    expect(r.blocked).toBe(reason);
  });

  it('channels are filtered by the gate', () => {
    const e = new EngagementEngine(opts, [rule]);
    const gate: TriggerGate = { campaignConsent: () => true, allowedChannels: (_p, c) => c.filter((x) => x === 'device') };
    e.recordEvent('p', 'c', t0, gate);
    expect(e.recordEvent('p', 'c', t0 + 1, gate).trigger).toEqual({ channels: ['device'] });
  });

  it('invalid upstream V is rejected and the last valid value kept', () => {
    const e = new EngagementEngine(opts, [{ ...rule, value: { kind: 'upstream' } }]);
    expect(e.recordEvent('p', 'c', t0, yes).blocked).toBe('no-value');
    e.setValue('p', 'c', 80);
    expect(() => e.setValue('p', 'c', 140)).toThrow(/0 to 100, got 140/);
    expect(() => e.setValue('p', 'c', NaN)).toThrow(EngagementError);
    expect(e.current('p', 'c', t0).v).toBe(80);
    expect(e.current('p', 'c', t0).index).toBeCloseTo(80);
  });

  it('F counts exactly the events in (now − window, now]', () => {
    const e = new EngagementEngine({ ...opts, windowDays: 1 }, [rule]);
    e.recordEvent('p', 'c', t0, yes);
    e.recordEvent('p', 'c', t0 + 1000, yes);
    expect(e.current('p', 'c', t0 + DAY_MS - 1).f).toBe(2);
    expect(e.current('p', 'c', t0 + DAY_MS).f).toBe(1); // t0 is exactly a window old: out
    expect(e.evaluate('p', 'c', t0 + DAY_MS, yes).f).toBe(1);
    expect(e.current('p', 'c', t0 + DAY_MS + 1000).f).toBe(0);
    expect(e.current('p', 'c', t0 + DAY_MS + 1000).index).toBe(0);
  });

  it('purge removes events and state and says how many', () => {
    const e = new EngagementEngine(opts, [rule]);
    for (let i = 0; i < 5; i++) e.recordEvent('p', 'c', t0 + i, yes);
    e.recordEvent('q', 'c', t0, yes);
    expect(e.purge({ profile: 'p' })).toBe(5);
    expect(e.current('p', 'c', t0 + 10).f).toBe(0);
    expect(e.current('q', 'c', t0 + 10).f).toBe(1);
  });
});
