/**
 * Jest setup (setupFilesAfterEnv): on a slow machine (EDGE_TEST_TIME_SCALE > 1, `npm run test:slow`) every test's
 * and hook's own timeout is scaled like every wait on a condition (time-scale.ts), so a test that gives itself 60 s
 * gets 180 s under a scale of 3 instead of failing for want of time alone. Table tests (`it.each`) keep theirs.
 */
import { timeScale } from './time-scale';

type Fn = (...args: unknown[]) => unknown;

const scale = timeScale();
if (scale > 1) {
  const g = globalThis as unknown as Record<string, Fn & Record<string, unknown>>;
  const scaled = (fn: Fn, timeoutIndex: number): Fn =>
    Object.assign((...args: unknown[]) => {
      if (typeof args[timeoutIndex] === 'number') args[timeoutIndex] = (args[timeoutIndex] as number) * scale;
      return fn(...args);
    }, fn);
  for (const name of ['it', 'test']) {
    const base = g[name];
    const w = scaled(base, 2) as Fn & Record<string, unknown>;
    for (const k of ['only', 'skip', 'concurrent', 'failing']) if (typeof base[k] === 'function') w[k] = scaled(base[k] as Fn, 2);
    w.each = base.each;
    g[name] = w as Fn & Record<string, unknown>;
  }
  for (const name of ['beforeAll', 'beforeEach', 'afterAll', 'afterEach']) g[name] = scaled(g[name], 1) as Fn & Record<string, unknown>;
}
