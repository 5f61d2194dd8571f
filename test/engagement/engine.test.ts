import * as fc from 'fast-check';
import {
  CLOCK_SAVE_MS,
  DAY_MS,
  EngagementEngine,
  EngagementError,
  computeIndex,
  type CampaignRule,
  type Channel,
  type EngagementOptions,
  type EngagementSnapshot,
  type Evaluation,
  type KeySnapshot,
  type StateChange,
  type TriggerGate,
} from '../../agent/engagement';

describe('computeIndex (DESIGN §4 table)', () => {
  it.each([
    // R, F, V, S, floor, expected
    [3, 14, 72, 100, 1, 336],
    [3, 14, 72, 10, 1, 33.6],
    [30, 2, 40, 100, 1, 2.6666666666666665],
    [30, 2, 40, 10, 1, 0.26666666666666666],
    [0.2, 5, 100, 100, 1, 500], // R floored at 1 day
    [0, 1, 50, 100, 1, 50],
    [0.5, 3, 100, 100, 0.25, 600], // a smaller floor lets R count
    [1, 0, 72, 100, 1, 0],
    [7, 10, 0, 100, 1, 0],
    [2, 1, 100, 100, 3, 33.333333333333336],
  ])('R=%p F=%p V=%p S=%p floor=%p → %p', (r, f, v, s, floor, expected) => {
    expect(computeIndex({ recencyDays: r, frequency: f, value: v, scale: s, recencyFloorDays: floor })).toBeCloseTo(expected, 10);
  });

  it('defaults to S = 100 and floor = 1', () => {
    expect(computeIndex({ recencyDays: 3, frequency: 14, value: 72 })).toBeCloseTo(336, 10);
  });

  it.each([
    [{ recencyDays: -1, frequency: 1, value: 1 }, /recency/],
    [{ recencyDays: NaN, frequency: 1, value: 1 }, /recency/],
    [{ recencyDays: 1, frequency: 1.5, value: 1 }, /frequency/],
    [{ recencyDays: 1, frequency: -2, value: 1 }, /frequency/],
    [{ recencyDays: 1, frequency: 1, value: 101 }, /0 to 100/],
    [{ recencyDays: 1, frequency: 1, value: -0.1 }, /0 to 100/],
    [{ recencyDays: 1, frequency: 1, value: Infinity }, /value/],
    [{ recencyDays: 1, frequency: 1, value: 1, scale: 0 }, /scale/],
    [{ recencyDays: 1, frequency: 1, value: 1, recencyFloorDays: 0 }, /floor/],
  ])('rejects %j', (input, re) => {
    expect(() => computeIndex(input)).toThrow(EngagementError);
    expect(() => computeIndex(input)).toThrow(re);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Brute-force oracle: keeps every event forever and recomputes everything from the definition at each step.

const OPTS: EngagementOptions = { windowDays: 2, recencyFloorDays: 0.5, recencyScale: 100 };
const CAMPAIGNS: CampaignRule[] = [
  { id: 'c1', threshold: 150, cooldownMs: 0.5 * DAY_MS, channels: ['push', 'device'], value: { kind: 'constant', v: 60 } },
  { id: 'c2', threshold: 80, cooldownMs: 0, channels: ['sms'], value: { kind: 'upstream', default: 30 } },
  { id: 'c3', threshold: 40, cooldownMs: DAY_MS, channels: ['email'], value: { kind: 'upstream' } },
];

class Oracle {
  events = new Map<string, Array<{ t: number; d: string }>>();
  armed = new Map<string, boolean>();
  last = new Map<string, number | null>();
  v = new Map<string, number>();
  now = 0;

  private rule(c: string): CampaignRule {
    return CAMPAIGNS.find((x) => x.id === c)!;
  }

  record(p: string, c: string, t: number, gate: TriggerGate, d = ''): Evaluation {
    this.now = Math.max(this.now, t);
    const k = `${p}|${c}`;
    if (t > this.now - OPTS.windowDays * DAY_MS) this.events.set(k, [...(this.events.get(k) ?? []), { t, d }]);
    return this.evaluate(p, c, this.now, gate);
  }

  evaluate(p: string, c: string, at: number, gate: TriggerGate): Evaluation {
    this.now = Math.max(this.now, at);
    const now = this.now;
    const k = `${p}|${c}`;
    const rule = this.rule(c);
    const inWindow = (this.events.get(k) ?? []).map((e) => e.t).filter((t) => t > now - OPTS.windowDays * DAY_MS && t <= now);
    const f = inWindow.length;
    const v = rule.value.kind === 'constant' ? rule.value.v : (this.v.get(k) ?? rule.value.default ?? null);
    const lastT = f > 0 ? Math.max(...inWindow) : null;
    const r = lastT === null ? null : (now - lastT) / DAY_MS;
    const index = f === 0 || v === null ? 0 : (OPTS.recencyScale / Math.max(r!, OPTS.recencyFloorDays)) * f * (v / 100);
    const ev: Evaluation = { profile: p, campaign: c, at: now, index, r, f, v, trigger: null };
    if (v === null) ev.blocked = 'no-value';
    const armed = this.armed.get(k) ?? true;
    const last = this.last.get(k) ?? null;
    if (index >= rule.threshold && f > 0 && v !== null) {
      if (armed) {
        this.armed.set(k, false);
        if (last !== null && now - last < rule.cooldownMs) ev.blocked = 'cooldown';
        else if (!gate.campaignConsent(p, c)) ev.blocked = 'consent';
        else {
          const chs = gate.allowedChannels(p, rule.channels);
          if (chs.length === 0) ev.blocked = 'channels';
          else {
            ev.trigger = { channels: chs };
            this.last.set(k, now);
          }
        }
      }
    } else {
      this.armed.set(k, true);
    }
    return ev;
  }

  setValue(p: string, c: string, v: number): boolean {
    if (!(Number.isFinite(v) && v >= 0 && v <= 100)) return false;
    this.v.set(`${p}|${c}`, v);
    return true;
  }

  purge(profile?: string, campaign?: string, device?: string): number {
    let n = 0;
    const live = (e: { t: number }): boolean => e.t > this.now - OPTS.windowDays * DAY_MS;
    for (const k of [...new Set([...this.events.keys(), ...this.armed.keys(), ...this.v.keys()])]) {
      const [p, c] = k.split('|');
      if ((profile === undefined || p === profile) && (campaign === undefined || c === campaign)) {
        if (device !== undefined) {
          const evs = (this.events.get(k) ?? []).filter(live);
          n += evs.filter((e) => e.d === device).length;
          this.events.set(k, evs.filter((e) => e.d !== device));
          continue;
        }
        n += (this.events.get(k) ?? []).filter(live).length;
        this.events.delete(k);
        this.armed.delete(k);
        this.last.delete(k);
        this.v.delete(k);
      }
    }
    return n;
  }
}

/** In-memory model of the persisted tables, fed only by the delta log — proves the log is complete. */
class TableModel {
  events: Array<{ p: string; c: string; t: number; d: string }> = [];
  state = new Map<string, { armed: boolean; lastTriggerAt: number | null; v: number | null }>();
  now = 0;
  apply(changes: StateChange[]): void {
    for (const ch of changes) {
      if (ch.op === 'event') {
        this.events.push({ p: ch.profile, c: ch.campaign, t: ch.t, d: ch.device });
        this.now = Math.max(this.now, ch.t);
      } else if (ch.op === 'prune') this.events = this.events.filter((e) => !(e.p === ch.profile && e.c === ch.campaign && e.t <= ch.before));
      else if (ch.op === 'state') {
        this.state.set(`${ch.profile}|${ch.campaign}`, { armed: ch.armed, lastTriggerAt: ch.lastTriggerAt, v: ch.v });
        if (ch.lastTriggerAt !== null) this.now = Math.max(this.now, ch.lastTriggerAt);
      } else if (ch.op === 'purge') {
        const m = (p: string, c: string): boolean =>
          (ch.profile === undefined || p === ch.profile) && (ch.campaign === undefined || c === ch.campaign);
        if (ch.device !== undefined) {
          this.events = this.events.filter((e) => !(m(e.p, e.c) && e.d === ch.device));
          continue;
        }
        this.events = this.events.filter((e) => !m(e.p, e.c));
        for (const k of [...this.state.keys()]) if (m(...(k.split('|') as [string, string]))) this.state.delete(k);
      } else this.now = ch.now;
    }
  }
  snapshot(): EngagementSnapshot {
    const keys = new Map<string, KeySnapshot>();
    const get = (p: string, c: string): KeySnapshot => {
      const k = `${p}|${c}`;
      if (!keys.has(k)) keys.set(k, { profile: p, campaign: c, events: [], sources: [], armed: true, lastTriggerAt: null, v: null });
      return keys.get(k)!;
    };
    for (const e of this.events) {
      get(e.p, e.c).events.push(e.t);
      get(e.p, e.c).sources!.push({ device: e.d, category: 'usage' });
    }
    for (const [k, s] of this.state) Object.assign(get(...(k.split('|') as [string, string])), s);
    return { version: 1, now: this.now, keys: [...keys.values()] };
  }
}

type Op =
  | { op: 'event'; p: string; c: string; dt: number; back: number; d: string }
  | { op: 'tick'; p: string; c: string; dt: number }
  | { op: 'value'; p: string; c: string; v: number }
  | { op: 'purge'; p?: string; c?: string; d?: string }
  | { op: 'restart'; via: 'snapshot' | 'log' }
  | { op: 'gate'; consent: boolean; channels: Channel[] };

// Whole hours (sometimes plus 1 ms) so window and cooldown boundaries are hit exactly, not just approached.
const HOURS = (min: number, max: number): fc.Arbitrary<number> =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom(0, 0, 0, 1)).map(([h, ms]) => h * 3_600_000 + ms);
const profile = fc.constantFrom('home-a', 'home-b');
const campaign = fc.constantFrom('c1', 'c2', 'c3');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('event' as const), p: profile, c: campaign, d: fc.constantFrom('dev-1', 'dev-2'), dt: HOURS(0, 12), back: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: HOURS(1, 72) }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('tick' as const), p: profile, c: campaign, dt: HOURS(0, 48) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('value' as const), p: profile, c: fc.constantFrom('c2', 'c3'), v: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(-1, 101, NaN, Infinity)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('purge' as const), p: fc.option(profile, { nil: undefined }), c: fc.option(campaign, { nil: undefined }), d: fc.option(fc.constantFrom('dev-1', 'dev-2'), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('restart' as const), via: fc.constantFrom('snapshot' as const, 'log' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('gate' as const), consent: fc.boolean(), channels: fc.subarray(['push', 'sms', 'email', 'device'] as Channel[]) }) },
);

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function sameEval(a: Evaluation, b: Evaluation): void {
  expect({ ...a, index: 0, r: 0 }).toEqual({ ...b, index: 0, r: 0 });
  expect(close(a.index, b.index)).toBe(true);
  if (a.r === null || b.r === null) expect(a.r).toBe(b.r);
  else expect(close(a.r, b.r)).toBe(true);
}

describe('EngagementEngine against a brute-force oracle', () => {
  it('agrees on every evaluation over random operation sequences, across restarts', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
        let engine = new EngagementEngine(OPTS, CAMPAIGNS);
        const oracle = new Oracle();
        const tables = new TableModel();
        let clock = 1_700_000_000_000;
        let consent = true;
        let allowed: Channel[] = ['push', 'sms', 'email', 'device'];
        const gate: TriggerGate = {
          campaignConsent: () => consent,
          allowedChannels: (_p, chs) => chs.filter((c) => allowed.includes(c)),
        };
        for (const o of ops) {
          switch (o.op) {
            case 'event': {
              clock += o.dt;
              const t = clock - o.back;
              sameEval(engine.recordEvent(o.p, o.c, t, gate, { device: o.d, category: 'usage' }), oracle.record(o.p, o.c, t, gate, o.d));
              break;
            }
            case 'tick':
              clock += o.dt;
              sameEval(engine.evaluate(o.p, o.c, clock, gate), oracle.evaluate(o.p, o.c, clock, gate));
              break;
            case 'value': {
              const ok = oracle.setValue(o.p, o.c, o.v);
              if (ok) engine.setValue(o.p, o.c, o.v);
              else expect(() => engine.setValue(o.p, o.c, o.v)).toThrow(EngagementError);
              break;
            }
            case 'purge':
              expect(engine.purge({ ...(o.p ? { profile: o.p } : {}), ...(o.c ? { campaign: o.c } : {}), ...(o.d ? { device: o.d } : {}) })).toBe(
                oracle.purge(o.p, o.c, o.d),
              );
              break;
            case 'restart':
              tables.apply(engine.drainChanges());
              engine =
                o.via === 'snapshot'
                  ? EngagementEngine.fromSnapshot(OPTS, CAMPAIGNS, JSON.parse(JSON.stringify(engine.snapshot())) as EngagementSnapshot)
                  : EngagementEngine.fromSnapshot(OPTS, CAMPAIGNS, tables.snapshot());
              break;
            case 'gate':
              consent = o.consent;
              allowed = o.channels;
              break;
          }
          tables.apply(engine.drainChanges());
        }
        // Final state seen through the persisted tables equals the oracle's at the same time.
        const rebuilt = EngagementEngine.fromSnapshot(OPTS, CAMPAIGNS, tables.snapshot());
        for (const p of ['home-a', 'home-b']) {
          for (const c of ['c1', 'c2', 'c3']) {
            const got = rebuilt.current(p, c, clock);
            const want = oracle.evaluate(p, c, clock, { campaignConsent: () => false, allowedChannels: () => [] });
            expect(got.f).toBe(want.f);
            expect(close(got.index, want.index)).toBe(true);
          }
        }
      }),
      { numRuns: 300, seed: 20261124 },
    );
  });
});

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
