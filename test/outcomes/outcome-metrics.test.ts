import {
  OutcomeMetrics,
  outcomeRule,
  presenceSessions,
  reorderCycle,
  type OutcomeHistory,
  type PresenceRecord,
  type PurchaseRecord,
  type TriggerRecord,
} from '../../agent/outcomes';
import type { CampaignConfig } from '../../agent/config';
import { ConsentRules } from '../../agent/consent/consent-rules';
import { campaignOptOutByDeviceType, optOutByDeviceType } from '../../agent/consent/opt-out';

const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const day = (d: number): number => T0 + d * DAY;

const campaign: CampaignConfig = {
  id: 'coffee',
  qualify: { event: 'dispense' },
  value: { kind: 'constant', v: 50 },
  threshold: 10,
  cooldownMs: 0,
  channels: ['push', 'device'],
  conversion: { events: ['reorder'], attributionWindowMs: 7 * DAY },
  dwell: { withinMs: 30 * MIN, capMs: 60 * MIN },
};
const metrics = new OutcomeMetrics([outcomeRule(campaign)]);

let ids = 0;
const trig = (
  at: number,
  profile = 'home-a',
  delivery: TriggerRecord['delivery'] = 'none',
): TriggerRecord => ({
  id: `t${++ids}`,
  profile,
  campaign: 'coffee',
  device: 'scale-a',
  at,
  channels: ['push'],
  delivery,
  deliveryError: null,
  deliveredAt: null,
});
const buy = (
  at: number,
  profile = 'home-a',
  trigger: string | null = null,
  device: string | null = 'scale-a',
): PurchaseRecord => ({
  profile,
  campaign: 'coffee',
  device,
  at,
  source: trigger === null ? 'device' : 'upstream',
  trigger,
});
const run = (h: Partial<OutcomeHistory>, now = day(100)) =>
  metrics.compute(
    { triggers: h.triggers ?? [], purchases: h.purchases ?? [], presence: h.presence ?? [] },
    now,
  )[0];

describe('trigger-to-conversion rate (hand-computed scenarios)', () => {
  const t1 = trig(day(0));
  const t2 = trig(day(5));
  const t3 = trig(day(2));
  const cases: Array<{
    name: string;
    h: Partial<OutcomeHistory>;
    triggers: number;
    converted: number;
    rate: number | null;
    unattributed: number;
  }> = [
    { name: 'no triggers, no purchases', h: {}, triggers: 0, converted: 0, rate: null, unattributed: 0 },
    {
      name: 'no conversions',
      h: { triggers: [t1, t2] },
      triggers: 2,
      converted: 0,
      rate: 0,
      unattributed: 0,
    },
    {
      name: 'a conversion before any trigger does not count',
      h: { triggers: [t2], purchases: [buy(day(1))] },
      triggers: 1,
      converted: 0,
      rate: 0,
      unattributed: 1,
    },
    {
      name: 'outside the window (8 days after)',
      h: { triggers: [t1], purchases: [buy(day(8))] },
      triggers: 1,
      converted: 0,
      rate: 0,
      unattributed: 1,
    },
    {
      name: 'exactly at the end of the window counts',
      h: { triggers: [t1], purchases: [buy(day(7))] },
      triggers: 1,
      converted: 1,
      rate: 1,
      unattributed: 0,
    },
    {
      name: 'at the trigger instant does not count',
      h: { triggers: [t1], purchases: [buy(day(0))] },
      triggers: 1,
      converted: 0,
      rate: 0,
      unattributed: 1,
    },
    {
      name: 'two triggers then one conversion: one converted',
      h: { triggers: [t1, t3], purchases: [buy(day(3))] },
      triggers: 2,
      converted: 1,
      rate: 0.5,
      unattributed: 0,
    },
    {
      // windows [0,7] and [5,12] overlap; purchases at 6 and 8: the oldest open trigger takes 6, the other 8
      name: 'overlapping windows: each trigger converts once',
      h: { triggers: [t1, t2], purchases: [buy(day(6)), buy(day(8))] },
      triggers: 2,
      converted: 2,
      rate: 1,
      unattributed: 0,
    },
    {
      name: 'a trigger converts at most once',
      h: { triggers: [t1], purchases: [buy(day(1)), buy(day(2)), buy(day(3))] },
      triggers: 1,
      converted: 1,
      rate: 1,
      unattributed: 2,
    },
    {
      name: "another household's purchase converts nothing",
      h: { triggers: [t1], purchases: [buy(day(1), 'home-b')] },
      triggers: 1,
      converted: 0,
      rate: 0,
      unattributed: 1,
    },
    {
      // upstream names t2; the device purchase at day 6 then goes to t1
      name: 'an upstream purchase converts the trigger it names',
      h: { triggers: [t1, t2], purchases: [buy(day(6), 'home-a', t2.id, null), buy(day(6.5))] },
      triggers: 2,
      converted: 2,
      rate: 1,
      unattributed: 0,
    },
    {
      name: "an upstream purchase outside its trigger's window converts nothing",
      h: { triggers: [t1], purchases: [buy(day(9), 'home-a', t1.id, null)] },
      triggers: 1,
      converted: 0,
      rate: 0,
      unattributed: 1,
    },
    {
      // a device was removed (unpaired without withdrawal) mid-period: what it recorded before still counts
      name: 'devices removed mid-period keep their past contribution',
      h: { triggers: [t1], purchases: [buy(day(1), 'home-a', null, 'scale-old')] },
      triggers: 1,
      converted: 1,
      rate: 1,
      unattributed: 0,
    },
  ];
  it.each(cases)('$name', ({ h, triggers, converted, rate, unattributed }) => {
    const m = run(h);
    expect({
      triggers: m.triggers,
      converted: m.converted,
      rate: m.conversionRate,
      unattributed: m.unattributedPurchases,
    }).toEqual({
      triggers,
      converted,
      rate,
      unattributed,
    });
  });

  it('a consent withdrawal mid-period: the purged household no longer counts (history as left by the purge)', () => {
    const full: Partial<OutcomeHistory> = {
      triggers: [trig(day(0), 'home-a'), trig(day(0), 'home-b')],
      purchases: [buy(day(1), 'home-a'), buy(day(20), 'home-b')],
    };
    expect(run(full)).toMatchObject({ households: 2, triggers: 2, converted: 1, conversionRate: 0.5 });
    const afterWithdrawal = {
      triggers: full.triggers!.filter((t) => t.profile !== 'home-a'),
      purchases: full.purchases!.filter((p) => p.profile !== 'home-a'),
    };
    expect(run(afterWithdrawal)).toMatchObject({
      households: 1,
      triggers: 1,
      converted: 0,
      conversionRate: 0,
    });
  });

  it('since restricts the period: a trigger before it is not converted by a purchase inside it', () => {
    const h = { triggers: [trig(day(0))], purchases: [buy(day(2))] };
    expect(metrics.compute({ ...h, presence: [] }, day(30), day(1))[0]).toMatchObject({
      triggers: 0,
      converted: 0,
      purchases: 1,
    });
  });

  it('delivery states are counted per campaign', () => {
    const m = run({
      triggers: [
        trig(day(0), 'home-a', 'delivered'),
        trig(day(1), 'home-a', 'failed'),
        trig(day(2), 'home-a', 'pending'),
        trig(day(3)),
      ],
    });
    expect(m.delivery).toEqual({ delivered: 1, failed: 1, pending: 1, none: 1 });
  });
});

describe('reorder cycle compression', () => {
  it('medians of intervals wholly before vs after the first trigger; the spanning interval belongs to neither', () => {
    // home-a purchases every 10 days before the trigger at day 25, every 6 days after; the 20→28 interval spans it
    const a = { purchases: [0, 10, 20, 28, 34, 40].map(day), firstTrigger: day(25) };
    // home-b: 12 days before, 4 after
    const b = { purchases: [0, 12, 30, 34].map(day), firstTrigger: day(29) };
    const r = reorderCycle([a, b]);
    // before: 10, 10, 12 → median 10; after: 6, 6, 4 → median 6
    expect(r).toEqual({
      intervalsBefore: 3,
      intervalsAfter: 3,
      medianBeforeDays: 10,
      medianAfterDays: 6,
      ratio: 0.6,
    });
  });

  it('households never triggered contribute nothing; no data gives nulls', () => {
    expect(reorderCycle([{ purchases: [0, 5, 10].map(day), firstTrigger: null }])).toEqual({
      intervalsBefore: 0,
      intervalsAfter: 0,
      medianBeforeDays: null,
      medianAfterDays: null,
      ratio: null,
    });
  });

  it('conversions before any trigger are kept for the reorder cycle (through OutcomeMetrics)', () => {
    const m = run({ triggers: [trig(day(20))], purchases: [0, 8, 16, 24, 28].map((d) => buy(day(d))) });
    expect(m.reorderCycle).toMatchObject({ medianBeforeDays: 8, medianAfterDays: 4, ratio: 0.5 });
    expect(m.converted).toBe(1);
  });
});

describe('dwell time at a triggered location', () => {
  const at = (m: number): number => day(0) + m * MIN;
  const p = (kind: 'start' | 'end', m: number, device = 'presence-1'): PresenceRecord => ({
    profile: 'home-a',
    campaign: 'coffee',
    device,
    kind,
    at: at(m),
  });

  it('pairs starts and ends; an unmatched start closes at the next start or the cap (truncated); a lone end is counted', () => {
    const b = presenceSessions(
      [
        p('start', 0),
        p('end', 10), // 10 min
        p('start', 20),
        p('start', 40), // closes the previous at 40 → 20 min, truncated
        p('end', 45), // 5 min
        p('end', 50), // no start open
        p('start', 100), // no end: capped at 60 min, truncated
        p('start', 300, 'presence-2'), // another device: its own sequence, still open at now (younger than the cap)
      ],
      60 * MIN,
      at(320),
    );
    expect(
      b.sessions.map((s) => [s.device, (s.start - day(0)) / MIN, s.durationMs / MIN, s.truncated]),
    ).toEqual([
      ['presence-1', 0, 10, false],
      ['presence-1', 20, 20, true],
      ['presence-1', 40, 5, false],
      ['presence-1', 100, 60, true],
    ]);
    expect(b.unmatchedEnds).toBe(1);
    expect(b.open).toBe(1);
  });

  it('a session longer than the cap is cut at the cap', () => {
    const b = presenceSessions([p('start', 0), p('end', 90)], 60 * MIN, at(200));
    expect(b.sessions).toEqual([
      { device: 'presence-1', start: at(0), durationMs: 60 * MIN, truncated: true },
    ]);
  });

  it('sessions starting within 30 min after a trigger vs baseline (through OutcomeMetrics)', () => {
    const t = trig(at(100));
    const presence = [
      p('start', 0),
      p('end', 10),
      p('start', 50),
      p('end', 54),
      p('start', 110),
      p('end', 150),
      p('start', 125, 'presence-2'),
      p('end', 145, 'presence-2'),
    ];
    const m = run({ triggers: [t], presence }, at(1000));
    // triggered: 40 and 20 min (start 110, 125) → median 30, mean 30; baseline: 10 and 4 → median 7
    expect(m.dwell.triggered).toEqual({ sessions: 2, medianMinutes: 30, meanMinutes: 30 });
    expect(m.dwell.baseline).toEqual({ sessions: 2, medianMinutes: 7, meanMinutes: 7 });
    expect(m.dwell.lift).toBeCloseTo(30 / 7, 10);
    expect(m.dwell).toMatchObject({ truncated: 0, unmatchedEnds: 0, withinMinutes: 30, capMinutes: 60 });
  });

  it('missing ends still count as truncated sessions in the triggered group', () => {
    const m = run({ triggers: [trig(at(0))], presence: [p('start', 5)] }, at(500));
    expect(m.dwell.triggered).toMatchObject({ sessions: 1, medianMinutes: 60 });
    expect(m.dwell.truncated).toBe(1);
  });
});

describe('opt-out rate by device type', () => {
  const rules = new ConsentRules();
  const decide = (scope: 'device' | 'campaign', subject: string, target: string, granted: boolean): void =>
    rules.apply({ scope, subject, target, granted, at: T0, policyVersion: 1, source: 'cli' } as Parameters<
      ConsentRules['apply']
    >[0]);
  decide('device', 'scale-a', 'usage', true);
  decide('device', 'scale-b', 'usage', false);
  decide('device', 'door-a', 'usage', true);
  decide('campaign', 'home-a', 'coffee', true);
  decide('campaign', 'home-b', 'coffee', false);
  const devices = [
    { id: 'scale-a', type: 'kitchen-scale', profile: 'home-a' },
    { id: 'scale-b', type: 'kitchen-scale', profile: 'home-b' },
    { id: 'door-a', type: 'fridge-door', profile: 'home-a' },
    { id: 'scale-c', type: 'kitchen-scale', profile: 'home-c' }, // home-c never decided on coffee
  ];

  it('device layer: share of devices of a type with a withdrawal in force', () => {
    expect(optOutByDeviceType(devices, rules)).toEqual([
      { type: 'fridge-door', devices: 1, optedOut: 0, rate: 0 },
      { type: 'kitchen-scale', devices: 3, optedOut: 1, rate: 1 / 3 },
    ]);
  });

  it('campaign layer: among households that decided; a device removed mid-period leaves the denominator', () => {
    expect(campaignOptOutByDeviceType(devices, rules, 'coffee')).toEqual([
      { type: 'fridge-door', devices: 1, optedOut: 0, rate: 0 },
      { type: 'kitchen-scale', devices: 2, optedOut: 1, rate: 0.5 },
    ]);
    const removed = devices.filter((d) => d.id !== 'scale-b');
    expect(campaignOptOutByDeviceType(removed, rules, 'coffee')).toEqual([
      { type: 'fridge-door', devices: 1, optedOut: 0, rate: 0 },
      { type: 'kitchen-scale', devices: 1, optedOut: 0, rate: 0 },
    ]);
  });
});
