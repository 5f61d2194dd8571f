import fc from 'fast-check';
import { SeriesTimestamps } from '../../agent/sync/series-timestamps';

describe('SeriesTimestamps (one point per ms and series, as ThingsBoard stores them)', () => {
  it('gives rows of one series distinct ts, moves a row only past taken ms, and keeps a row its ts on re-send', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ series: fc.constantFrom('a', 'b'), at: fc.integer({ min: 0, max: 5 }), resend: fc.boolean() }), { maxLength: 60 }),
        (ops) => {
          const st = new SeriesTimestamps();
          const sent: Array<{ series: string; row: number; at: number; ts: number }> = [];
          ops.forEach((op, i) => {
            const prev = op.resend && sent.length > 0 ? sent[i % sent.length] : null;
            if (prev) expect(st.assign(prev.series, prev.row, prev.at)).toBe(prev.ts);
            else sent.push({ series: op.series, row: i, at: op.at, ts: st.assign(op.series, i, op.at) });
          });
          for (const s of ['a', 'b']) {
            const mine = sent.filter((x) => x.series === s);
            expect(new Set(mine.map((x) => x.ts)).size).toBe(mine.length);
            for (const x of mine) {
              expect(x.ts).toBeGreaterThanOrEqual(x.at);
              // every ms it skipped was taken by an earlier row of the series
              for (let t = x.at; t < x.ts; t++) expect(mine.some((y) => y.row < x.row && y.ts === t)).toBe(true);
            }
          }
        },
      ),
    );
  });

  it('leaves distinct times alone', () => {
    const st = new SeriesTimestamps();
    expect([1000, 2000, 1000, 1000, 3000].map((t, i) => st.assign('s', i, t))).toEqual([1000, 2000, 1001, 1002, 3000]);
    expect(st.assign('other', 9, 1000)).toBe(1000);
  });
});
