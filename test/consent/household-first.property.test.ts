import * as fc from 'fast-check';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { MAX_UPSTREAM_CLOCK_SKEW_MS } from '../../agent/consent/consent-service';
import type { ConsentScope } from '../../agent/consent/consent-rules';
import { tempDir } from '../support/temp-dir';
import { cfg } from './wearable-household';

/**
 * Household first (issue #21), as a property against an oracle: any interleaving of household changes (CLI,
 * panel, the device button's withdrawals) and upstream changes dated anywhere from an hour back to ten minutes
 * ahead. The oracle is the rule written plainly; the real ConsentService (real SQLite ledger) must agree entry
 * for entry, and three invariants must hold whatever the oracle says: the ledger is in time order and never
 * dated ahead of the gateway, upstream never grants a special category or "*", and a household withdrawal stays
 * in force against upstream until the household grants again.
 */
const SEED = 2112;

interface Key {
  scope: ConsentScope;
  subject: string;
  target: string;
}
const KEYS: Key[] = [
  { scope: 'device', subject: 'wear-1', target: 'usage' },
  { scope: 'device', subject: 'wear-1', target: 'health' },
  { scope: 'device', subject: 'wear-1', target: '*' },
  { scope: 'campaign', subject: 'home-a', target: 'c' },
  { scope: 'channel', subject: 'home-a', target: 'push' },
];
const SPECIAL = new Set(['health', 'biometric']);

type Op =
  | { kind: 'household'; source: 'cli' | 'panel'; key: number; granted: boolean; dt: number }
  | { kind: 'button-withdraw'; target: 'usage' | 'health'; dt: number }
  | { kind: 'upstream'; key: number; granted: boolean; offset: number; dt: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('household' as const), source: fc.constantFrom('cli' as const, 'panel' as const), key: fc.nat(KEYS.length - 1), granted: fc.boolean(), dt: fc.nat(120_000) }),
  fc.record({ kind: fc.constant('button-withdraw' as const), target: fc.constantFrom('usage' as const, 'health' as const), dt: fc.nat(120_000) }),
  fc.record({
    kind: fc.constant('upstream' as const),
    key: fc.nat(KEYS.length - 1),
    granted: fc.boolean(),
    // replays from the past, skew-sized shifts and dates well ahead
    offset: fc.oneof(fc.integer({ min: -3_600_000, max: 0 }), fc.integer({ min: -MAX_UPSTREAM_CLOCK_SKEW_MS, max: MAX_UPSTREAM_CLOCK_SKEW_MS }), fc.integer({ min: MAX_UPSTREAM_CLOCK_SKEW_MS + 1, max: 600_000 })),
    dt: fc.nat(120_000),
  }),
);

interface Entry extends Key {
  granted: boolean;
  source: string;
  at: number;
}

/** The rules, plainly. */
class Oracle {
  readonly entries: Entry[] = [];
  private readonly current = new Map<string, Entry>();
  private readonly household = new Map<string, { granted: boolean; n: number }>();
  private n = 0;
  private k = (s: string, sub: string, t: string): string => `${s}/${sub}/${t}`;

  private record(e: Entry): void {
    const last = this.entries.at(-1)?.at ?? 0;
    const entry = { ...e, at: Math.max(e.at, last) };
    this.entries.push(entry);
    const k = this.k(e.scope, e.subject, e.target);
    this.current.set(k, entry);
    this.n++;
    if (e.source !== 'upstream') this.household.set(k, { granted: e.granted, n: this.n });
  }

  household_(key: Key, granted: boolean, source: string, now: number): void {
    this.record({ ...key, granted, source, at: now });
  }

  upstream(key: Key, granted: boolean, at: number, now: number): void {
    if (at > now + MAX_UPSTREAM_CLOCK_SKEW_MS) return;
    if (granted && key.scope === 'device' && (key.target === '*' || SPECIAL.has(key.target))) return;
    if (granted) {
      const own = [this.household.get(this.k(key.scope, key.subject, key.target))];
      if (key.scope === 'device' && key.target !== '*') own.push(this.household.get(this.k('device', key.subject, '*')));
      const latest = own.filter((x) => x !== undefined).sort((a, b) => b.n - a.n)[0];
      if (latest && !latest.granted) return;
    }
    const cur = this.current.get(this.k(key.scope, key.subject, key.target));
    if (cur && cur.at > at) return;
    this.record({ ...key, granted, source: 'upstream', at: Math.min(at, now) });
  }

  allows(key: Key): boolean {
    const exact = this.current.get(this.k(key.scope, key.subject, key.target));
    if (exact) return exact.granted;
    if (key.scope !== 'device' || SPECIAL.has(key.target)) return false;
    return this.current.get(this.k('device', key.subject, '*'))?.granted === true;
  }
}

describe('upstream consent, household first (property against an oracle, real ledger)', () => {
  it('agrees with the oracle entry for entry; time order, no upstream special grants, withdrawals final for upstream', async () => {
    console.log(`household-first property: seed ${SEED}`);
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const t = tempDir();
        const agent = new Agent(cfg(t.dir), { logger: silentLogger, drivers: [], api: false });
        await agent.start();
        try {
          const oracle = new Oracle();
          let now = Date.now();
          for (const o of ops) {
            now += o.dt;
            if (o.kind === 'household') {
              const key = KEYS[o.key]!;
              agent.consent.change({ ...key, granted: o.granted, source: o.source }, now);
              oracle.household_(key, o.granted, o.source, now);
            } else if (o.kind === 'button-withdraw') {
              const key = { scope: 'device' as const, subject: 'wear-1', target: o.target };
              agent.consent.change({ ...key, granted: false, source: 'device' }, now);
              oracle.household_(key, false, 'device', now);
            } else {
              const key = KEYS[o.key]!;
              agent.consent.fromUpstream({ ...key, granted: o.granted, source: 'upstream', at: now + o.offset }, now);
              oracle.upstream(key, o.granted, now + o.offset, now);
            }
            const ledger = agent.ledger.entries().map((e) => ({ scope: e.scope, subject: e.subject, target: e.target, granted: e.granted, source: e.source, at: e.at }));
            expect(ledger).toEqual(oracle.entries);
            // invariants, whatever the oracle says
            for (let i = 1; i < ledger.length; i++) expect(ledger[i]!.at).toBeGreaterThanOrEqual(ledger[i - 1]!.at);
            expect(ledger.every((e) => e.at <= now)).toBe(true);
            expect(ledger.some((e) => e.source === 'upstream' && e.granted && (e.target === '*' || SPECIAL.has(e.target)))).toBe(false);
            const rules = agent.ledger.rules;
            for (const key of KEYS) {
              const real =
                key.scope === 'device' ? rules.deviceAllows(key.subject, key.target) : key.scope === 'campaign' ? rules.campaignAllows(key.subject, key.target) : rules.channelAllows(key.subject, key.target);
              expect(real).toBe(oracle.allows(key));
            }
          }
          // a household withdrawal not followed by a household grant of the same key is still in force
          const entries = agent.ledger.entries();
          for (const key of KEYS.filter((k) => k.scope !== 'device')) {
            const own = entries.filter((e) => e.source !== 'upstream' && e.scope === key.scope && e.subject === key.subject && e.target === key.target).at(-1);
            if (own && !own.granted) expect(key.scope === 'campaign' ? agent.ledger.rules.campaignAllows(key.subject, key.target) : agent.ledger.rules.channelAllows(key.subject, key.target)).toBe(false);
          }
          expect(agent.ledger.verify().ok).toBe(true);
        } finally {
          await agent.stop();
          t.cleanup();
        }
      }),
      { seed: SEED, numRuns: 40 },
    );
  }, 120_000);
});
