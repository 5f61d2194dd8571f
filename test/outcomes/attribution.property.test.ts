import * as fc from 'fast-check';
import { attribute, inWindow, type AttributionPurchase, type AttributionTrigger } from '../../agent/outcomes';

const W = 10;

/**
 * Brute-force oracle: the largest number of triggers any valid assignment converts (each trigger at most once,
 * each purchase at most one trigger, a purchase naming a trigger only that one, all within the window).
 */
function maxConverted(ts: readonly AttributionTrigger[], ps: readonly AttributionPurchase[]): number {
  const used = new Set<string>();
  const go = (i: number): number => {
    if (i === ps.length) return 0;
    let best = go(i + 1); // purchase i converts nothing
    for (const t of ts) {
      if (used.has(t.id) || !inWindow(t, ps[i], W) || (ps[i].trigger !== null && ps[i].trigger !== t.id))
        continue;
      used.add(t.id);
      best = Math.max(best, 1 + go(i + 1));
      used.delete(t.id);
    }
    return best;
  };
  return go(0);
}

const history = fc
  .record({
    triggers: fc.array(fc.record({ key: fc.constantFrom('a', 'b'), at: fc.integer({ min: 0, max: 40 }) }), {
      maxLength: 6,
    }),
    purchases: fc.array(
      fc.record({
        key: fc.constantFrom('a', 'b'),
        at: fc.integer({ min: 0, max: 50 }),
        names: fc.option(fc.nat(7), { nil: null }),
      }),
      { maxLength: 7 },
    ),
  })
  .map(({ triggers, purchases }) => {
    const ts = triggers.map((t, i) => ({ id: `t${i}`, ...t }));
    // a purchase may name a trigger (upstream), possibly one of another key or one that does not exist
    const ps = purchases.map((p) => ({
      key: p.key,
      at: p.at,
      trigger: p.names === null ? null : `t${p.names}`,
    }));
    return { ts, ps };
  });

describe('trigger-to-conversion attribution (property, brute-force oracle)', () => {
  it('converts as many triggers as the best possible assignment, and every pair it makes is valid', () => {
    fc.assert(
      fc.property(history, ({ ts, ps }) => {
        const got = attribute(ts, ps, W);
        const byId = new Map(ts.map((t) => [t.id, t]));
        const usedPurchases = new Set<number>();
        for (const [id, i] of got) {
          const t = byId.get(id)!;
          expect(inWindow(t, ps[i], W)).toBe(true);
          if (ps[i].trigger !== null) expect(ps[i].trigger).toBe(id);
          expect(usedPurchases.has(i)).toBe(false);
          usedPurchases.add(i);
        }
        expect(got.size).toBe(maxConverted(ts, ps));
      }),
      { numRuns: 3000 },
    );
  });

  it('a greedy that credits the latest trigger (last touch) would convert fewer: the oracle tells them apart', () => {
    const ts = [
      { id: 't0', key: 'a', at: 0 },
      { id: 't1', key: 'a', at: 5 },
    ];
    const ps = [
      { key: 'a', at: 6, trigger: null },
      { key: 'a', at: 12, trigger: null },
    ];
    expect(maxConverted(ts, ps)).toBe(2);
    expect(attribute(ts, ps, W).size).toBe(2);
  });
});
