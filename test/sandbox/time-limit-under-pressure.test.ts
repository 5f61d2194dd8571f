import { IsolatedScript, ScriptError, type ScriptErrorKind } from '../../agent/sandbox';
import { MEMORY_PRESSURE_SCRIPTS } from '../../scripts/bench/memory-pressure-scripts';

// Issue #21: a script stopped within 2x its time limit whatever it allocates. How long the stop takes is a
// benchmark figure (`npm run bench`: sandbox.stop_under_memory_pressure_max); here, every hostile pattern ends in
// its class, and the mechanism that bounds the stop (QuickJS polled every few ticks from a run's first tick) is
// checked by counting polls, which does not depend on the machine's speed.
const LIMITS = { timeoutMs: 50, memoryBytes: 8 * 1024 * 1024, maxOutputBytes: 64 * 1024, stackBytes: 256 * 1024 };

function errorOf(run: () => unknown): ScriptError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScriptError) return err;
    throw err;
  }
  throw new Error('the script returned');
}

describe('the time limit under memory pressure', () => {
  test.each(MEMORY_PRESSURE_SCRIPTS)('$name ends in a timeout or memory error', async ({ body }) => {
    const script = await IsolatedScript.compile('pressure', 'condition', `function (msg) { ${body} }`, LIMITS);
    const err = errorOf(() => script.call([{}]));
    expect<ScriptErrorKind[]>(['timeout', 'memory']).toContain(err.kind);
    expect(err.scriptId).toBe('pressure');
    script.dispose();
  });

  test('QuickJS is polled every few ticks from the first one, not once per 10,000', async () => {
    // ~2 ticks per iteration (a backward jump and a call): QuickJS alone would poll 0 times in 2,000 ticks.
    const script = await IsolatedScript.compile('ticks', 'condition', 'function (msg) { var n = 0; for (var i = 0; i < 1000; i++) n += Math.abs(i); return n }', LIMITS);
    expect(script.call([{}]).value).toBe(499500);
    expect(script.pollsInRun).toBeGreaterThanOrEqual(100);
    // And again on the next call: every run starts with a short countdown.
    script.call([{}]);
    expect(script.pollsInRun).toBeGreaterThanOrEqual(100);
    script.dispose();
  });

  test('an error thrown at depth, 10,000 times, is stopped as a timeout', async () => {
    // Each throw builds a backtrace of ~1,000 frames; unpolled, 10,000 of them ran for seconds.
    const script = await IsolatedScript.compile('deep-throws', 'condition', 'function (msg) { function f(n) { if (n > 0) return f(n - 1); for (var k = 0; k < 10000; k++) { try { null.x } catch (e) {} } return k } return f(1000) }', LIMITS);
    const err = errorOf(() => script.call([{}]));
    expect(err.kind).toBe('timeout');
    expect(script.pollsInRun).toBeGreaterThan(1);
    script.dispose();
  });
});
