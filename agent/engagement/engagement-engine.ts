import { DAY_MS, EngagementError, computeIndex, validateValue } from './index-formula';
import type {
  CampaignRule,
  EventSource,
  PurgeFilter,
  EngagementOptions,
  EngagementSnapshot,
  Evaluation,
  KeySnapshot,
  StateChange,
  TriggerGate,
} from './types';

/** Per (profile, campaign): qualifying event times in the window (sorted) and the trigger state. */
class KeyState {
  /** sorted ascending; entries before `head` are expired and wait for compaction */
  events: number[] = [];
  /** where each event came from (parallel to `events`), so a device-level withdrawal erases exactly its share */
  sources: EventSource[] = [];
  head = 0;
  armed = true;
  lastTriggerAt: number | null = null;
  /** per-profile V sent from upstream */
  v: number | null = null;

  constructor(
    readonly profile: string,
    readonly campaign: string,
  ) {}

  get live(): number {
    return this.events.length - this.head;
  }
}

/** First index i in [lo, hi) with a[i] > x. */
function upperBound(a: number[], x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const keyOf = (profile: string, campaign: string): string => `${profile}\u0000${campaign}`;
const NO_SOURCE: EventSource = { device: '', category: '' };

/** What the index is made of at one moment. */
export interface Measure {
  index: number;
  r: number | null;
  f: number;
  v: number | null;
}

/** How often the engagement clock is persisted at most (see `drainChanges`). */
export const CLOCK_SAVE_MS = 10 * 60_000;

/**
 * The engagement engine (DESIGN §4), pure: no I/O, time passed in. Evaluation time never goes backwards
 * (a clock stepped back counts as no time passing), which lets expired events be dropped for good and keeps
 * memory bounded by the events inside the window. Every state change is also appended to a delta log
 * (`drainChanges`) that the store writes in the same transaction as the frame that caused it.
 */
export class EngagementEngine {
  private readonly keys = new Map<string, KeyState>();
  private readonly rules = new Map<string, CampaignRule>();
  private readonly windowMs: number;
  private now = 0;
  private drainedNow = 0;
  private changes: StateChange[] = [];

  constructor(
    readonly opts: EngagementOptions,
    campaigns: readonly CampaignRule[],
  ) {
    if (!(opts.windowDays > 0)) throw new EngagementError(`windowDays must be > 0, got ${opts.windowDays}`);
    this.windowMs = opts.windowDays * DAY_MS;
    for (const c of campaigns) this.rules.set(c.id, c);
  }

  private rule(campaign: string): CampaignRule {
    const r = this.rules.get(campaign);
    if (!r) throw new EngagementError(`unknown campaign "${campaign}"`);
    return r;
  }

  private state(profile: string, campaign: string): KeyState {
    const k = keyOf(profile, campaign);
    let s = this.keys.get(k);
    if (!s) {
      this.rule(campaign);
      s = new KeyState(profile, campaign);
      this.keys.set(k, s);
    }
    return s;
  }

  private advance(at: number): number {
    if (Number.isFinite(at) && at > this.now) this.now = at;
    return this.now;
  }

  /** Records one qualifying event at `atMs`, then evaluates the key at the (monotonic) current time. */
  recordEvent(
    profile: string,
    campaign: string,
    atMs: number,
    gate: TriggerGate,
    source: EventSource = NO_SOURCE,
  ): Evaluation {
    if (!Number.isFinite(atMs)) throw new EngagementError(`event time must be a finite number, got ${atMs}`);
    const s = this.state(profile, campaign);
    const now = this.advance(atMs);
    // An event already outside the window can never count; keep nothing for it.
    if (atMs > now - this.windowMs) {
      const ev = s.events;
      if (ev.length === 0 || ev[ev.length - 1] <= atMs) {
        ev.push(atMs);
        s.sources.push(source);
      } else {
        const at = upperBound(ev, atMs, s.head, ev.length);
        ev.splice(at, 0, atMs);
        s.sources.splice(at, 0, source);
      }
      this.changes.push({ op: 'event', profile, campaign, t: atMs, device: source.device, category: source.category });
    }
    return this.evaluateState(s, now, gate);
  }

  /** Re-evaluates a key at `nowMs` (R grows, events leave the window); may re-arm, never adds events. */
  evaluate(profile: string, campaign: string, nowMs: number, gate: TriggerGate): Evaluation {
    return this.evaluateState(this.state(profile, campaign), this.advance(nowMs), gate);
  }

  /** Adds a campaign or replaces its rule (threshold, cooldown, channels, value source); keys keep their events. */
  setRule(rule: CampaignRule): void {
    this.rules.set(rule.id, rule);
  }

  /** Sets the per-profile V (from upstream). Out of range throws and keeps the last valid value. */
  setValue(profile: string, campaign: string, v: number): void {
    validateValue(v, `value (V) for ${profile}/${campaign}`);
    const s = this.state(profile, campaign);
    s.v = v;
    this.pushState(s);
  }

  /** Unsets the per-profile V (upstream deleted it): the campaign's default applies again, or no V at all. */
  clearValue(profile: string, campaign: string): void {
    const s = this.state(profile, campaign);
    s.v = null;
    this.pushState(s);
  }

  private valueOf(s: KeyState): number | null {
    const val = this.rule(s.campaign).value;
    if (val.kind === 'constant') return val.v;
    return s.v ?? val.default ?? null;
  }

  private expire(s: KeyState, now: number): void {
    const cutoff = now - this.windowMs;
    const ev = s.events;
    if (s.head < ev.length && ev[s.head] <= cutoff) {
      s.head = upperBound(ev, cutoff, s.head, ev.length);
      this.changes.push({ op: 'prune', profile: s.profile, campaign: s.campaign, before: cutoff });
      // Compact once the dead prefix dominates, so pushes stay amortised O(1).
      if (s.head > 32 && s.head * 2 > ev.length) {
        s.events = ev.slice(s.head);
        s.sources = s.sources.slice(s.head);
        s.head = 0;
      }
    }
  }

  private measure(s: KeyState, now: number): Measure {
    this.expire(s, now);
    return this.measureFrom(s, now, s.head);
  }

  /** Index, R, F, V at `now`, counting the events from index `lo` on (all inside the window). */
  private measureFrom(s: KeyState, now: number, lo: number): Measure {
    const ev = s.events;
    const f = ev.length - lo;
    const v = this.valueOf(s);
    if (f === 0) return { index: 0, r: null, f: 0, v };
    const r = (now - ev[ev.length - 1]) / DAY_MS;
    const index =
      v === null
        ? 0
        : computeIndex({ recencyDays: r, frequency: f, value: v, scale: this.opts.recencyScale, recencyFloorDays: this.opts.recencyFloorDays });
    return { index, r, f, v };
  }

  private pushState(s: KeyState): void {
    this.changes.push({ op: 'state', profile: s.profile, campaign: s.campaign, armed: s.armed, lastTriggerAt: s.lastTriggerAt, v: s.v });
  }

  private evaluateState(s: KeyState, now: number, gate: TriggerGate): Evaluation {
    const m = this.measure(s, now);
    const rule = this.rule(s.campaign);
    const ev: Evaluation = { profile: s.profile, campaign: s.campaign, at: now, ...m, trigger: null };
    if (m.v === null) ev.blocked = 'no-value';
    if (m.index >= rule.threshold && m.f > 0 && m.v !== null) {
      if (s.armed) {
        // Upward crossing: consumed whether or not it fires; re-arms only below the threshold.
        s.armed = false;
        if (s.lastTriggerAt !== null && now - s.lastTriggerAt < rule.cooldownMs) ev.blocked = 'cooldown';
        else if (!gate.campaignConsent(s.profile, s.campaign)) ev.blocked = 'consent';
        else {
          const channels = gate.allowedChannels(s.profile, rule.channels);
          if (channels.length === 0) ev.blocked = 'channels';
          else {
            ev.trigger = { channels };
            s.lastTriggerAt = now;
          }
        }
        this.pushState(s);
      }
    } else if (!s.armed) {
      s.armed = true;
      this.pushState(s);
    }
    return ev;
  }

  /** Index, R, F, V of a key at `nowMs` without changing anything. */
  current(profile: string, campaign: string, nowMs: number): Measure {
    const s = this.keys.get(keyOf(profile, campaign));
    const now = Math.max(nowMs, this.now);
    if (!s) {
      const val = this.rule(campaign).value;
      return { index: 0, r: null, f: 0, v: val.kind === 'constant' ? val.v : (val.default ?? null) };
    }
    return this.measureFrom(s, now, upperBound(s.events, now - this.windowMs, s.head, s.events.length));
  }

  armed(profile: string, campaign: string): { armed: boolean; lastTriggerAt: number | null } {
    const s = this.keys.get(keyOf(profile, campaign));
    return { armed: s?.armed ?? true, lastTriggerAt: s?.lastTriggerAt ?? null };
  }

  keysList(): Array<{ profile: string; campaign: string }> {
    return [...this.keys.values()].map((s) => ({ profile: s.profile, campaign: s.campaign }));
  }

  /**
   * Erasure (consent withdrawal), returning the events removed. Without a device in the filter, matching keys
   * are dropped whole (events and trigger state). With a device (and optionally a category), only the events
   * that device contributed are removed; the keys' trigger state stays and is re-evaluated on the next tick.
   */
  purge(filter: PurgeFilter): number {
    let removed = 0;
    const bySource = filter.device !== undefined;
    for (const [k, s] of this.keys) {
      if (filter.profile !== undefined && s.profile !== filter.profile) continue;
      if (filter.campaign !== undefined && s.campaign !== filter.campaign) continue;
      this.expire(s, this.now);
      if (!bySource) {
        removed += s.live;
        this.keys.delete(k);
        continue;
      }
      const events: number[] = [];
      const sources: EventSource[] = [];
      for (let i = s.head; i < s.events.length; i++) {
        const src = s.sources[i];
        if (src.device === filter.device && (filter.category === undefined || src.category === filter.category)) {
          removed++;
        } else {
          events.push(s.events[i]);
          sources.push(src);
        }
      }
      s.events = events;
      s.sources = sources;
      s.head = 0;
    }
    this.changes.push({ op: 'purge', ...filter });
    return removed;
  }

  /**
   * The delta log since the last drain. The clock itself (a lower bound for `now` after a restart, so time never
   * runs backwards on a gateway without a real-time clock) is logged at most every CLOCK_SAVE_MS, or when
   * `saveClock` (a stop): it advances every second, and writing it with every frame or tick cost a page per commit
   * and kept an idle gateway writing (issue #24). After a crash the restored clock is the newest of that save,
   * the newest event and the newest trigger, so it lags by at most CLOCK_SAVE_MS.
   */
  drainChanges(saveClock = false): StateChange[] {
    if (this.now !== this.drainedNow && (saveClock || this.now - this.drainedNow >= CLOCK_SAVE_MS)) {
      this.changes.push({ op: 'clock', now: this.now });
      this.drainedNow = this.now;
    }
    const c = this.changes;
    this.changes = [];
    return c;
  }

  snapshot(): EngagementSnapshot {
    return {
      version: 1,
      now: this.now,
      keys: [...this.keys.values()].map(
        (s): KeySnapshot => ({
          profile: s.profile,
          campaign: s.campaign,
          events: s.events.slice(s.head),
          sources: s.sources.slice(s.head),
          armed: s.armed,
          lastTriggerAt: s.lastTriggerAt,
          v: s.v,
        }),
      ),
    };
  }

  /** Rebuilds an engine from a snapshot; keys of campaigns no longer configured are dropped. */
  static fromSnapshot(opts: EngagementOptions, campaigns: readonly CampaignRule[], snap: EngagementSnapshot): EngagementEngine {
    const e = new EngagementEngine(opts, campaigns);
    e.now = snap.now;
    e.drainedNow = snap.now;
    for (const k of snap.keys) {
      if (!e.rules.has(k.campaign)) continue;
      const s = e.state(k.profile, k.campaign);
      const order = k.events.map((_t, i) => i).sort((a, b) => k.events[a] - k.events[b]);
      s.events = order.map((i) => k.events[i]);
      s.sources = order.map((i) => k.sources?.[i] ?? NO_SOURCE);
      s.armed = k.armed;
      s.lastTriggerAt = k.lastTriggerAt;
      s.v = k.v;
    }
    return e;
  }
}
