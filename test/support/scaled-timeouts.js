// Jest setup (setupFilesAfterEnv): on a slow machine (EDGE_TEST_TIME_SCALE > 1, `npm run test:slow`) every test's
// and hook's own timeout is scaled like every wait on a condition (test/support/time-scale.ts), so a test that
// gives itself 60 s gets 180 s under a scale of 3 instead of failing for want of time alone.
const scale = Math.max(1, Number(process.env.EDGE_TEST_TIME_SCALE || '1') || 1);
if (scale > 1) {
  const scaled = (fn, timeoutIndex) => {
    const wrapped = (...args) => {
      if (typeof args[timeoutIndex] === 'number') args[timeoutIndex] *= scale;
      return fn(...args);
    };
    return Object.assign(wrapped, fn);
  };
  for (const name of ['it', 'test']) {
    const base = global[name];
    const w = scaled(base, 2);
    for (const k of ['only', 'skip', 'concurrent', 'failing']) if (typeof base[k] === 'function') w[k] = scaled(base[k], 2);
    w.each = base.each; // table tests keep their own (unscaled) timeout
    global[name] = w;
  }
  for (const name of ['beforeAll', 'beforeEach', 'afterAll', 'afterEach']) global[name] = scaled(global[name], 1);
}
