import * as fc from 'fast-check';
import {
  DAY_MS,
  EngagementEngine,
  EngagementError,
  type CampaignRule,
  type Channel,
  type EngagementOptions,
  type EngagementSnapshot,
  type Evaluation,
  type KeySnapshot,
  type StateChange,
  type TriggerGate,
} from '../../agent/engagement';

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
