import {
  EngagementError,
  computeIndex,
} from '../../agent/engagement';

/** The engagement index formula (DESIGN §4), as a table. */
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
