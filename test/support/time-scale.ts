/**
 * One factor for every timeout in the tests: `EDGE_TEST_TIME_SCALE=3 npm test` gives a slow machine (a Pi, a
 * CPU quota, a busy CI runner) three times as long for everything that waits on a condition. `npm run test:slow`
 * sets it. Never used to sleep: waits are on conditions, this only moves the point where they give up.
 */
export function timeScale(): number {
  const v = Number(process.env.EDGE_TEST_TIME_SCALE ?? '1');
  return Number.isFinite(v) && v >= 1 ? v : 1;
}
