import {
  CLOCK_SAVE_MS,
  EngagementEngine,
  type CampaignRule,
  type EngagementOptions,
  type StateChange,
  type TriggerGate,
} from '../../agent/engagement';

describe('the engagement clock in the delta log (issue #24: written at most every CLOCK_SAVE_MS, or at a stop)', () => {
  const rule: CampaignRule = { id: 'c', threshold: 1e9, cooldownMs: 0, channels: ['push'], value: { kind: 'constant', v: 1 } };
  const opts: EngagementOptions = { windowDays: 30, recencyFloorDays: 1, recencyScale: 100 };
  const yes: TriggerGate = { campaignConsent: () => true, allowedChannels: (_p, c) => c };
  const t0 = 1_700_000_000_000;
  const clocks = (changes: StateChange[]): number[] => changes.flatMap((c) => (c.op === 'clock' ? [c.now] : []));

  it('ticks and events move the clock without logging it each time; a due or a forced drain logs it', () => {
    const e = new EngagementEngine(opts, [rule]);
    e.recordEvent('p', 'c', t0, yes);
    expect(clocks(e.drainChanges())).toEqual([t0]); // the first drain: never saved before
    for (let s = 1; s <= 60; s++) {
      e.evaluate('p', 'c', t0 + s * 1000, yes); // a tick every second
      expect(clocks(e.drainChanges())).toEqual([]);
    }
    e.evaluate('p', 'c', t0 + CLOCK_SAVE_MS, yes);
    expect(clocks(e.drainChanges())).toEqual([t0 + CLOCK_SAVE_MS]);
    e.evaluate('p', 'c', t0 + CLOCK_SAVE_MS + 5000, yes);
    expect(clocks(e.drainChanges())).toEqual([]);
    expect(clocks(e.drainChanges(true))).toEqual([t0 + CLOCK_SAVE_MS + 5000]); // a stop saves it
    expect(clocks(e.drainChanges(true))).toEqual([]); // unchanged since: nothing to save
  });
});
