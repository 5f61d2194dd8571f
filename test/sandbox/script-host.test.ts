import { ScriptBreaker, ScriptHost, checkCondition, checkScore } from '../../agent/sandbox';

describe('compile errors', () => {
  const host = new ScriptHost();
  afterAll(() => host.stop());

  test.each([
    { name: 'body with a syntax error on line 3', source: 'var t = payload[0];\nvar h = payload[1];\nreturn { telemetry: { t: t, h: h +} };', line: 3 },
    { name: 'whole function with a syntax error on line 2', source: 'function Decoder(payload, metadata) {\n  var x = ;\n  return {};\n}', line: 2 },
    { name: 'unclosed brace', source: 'if (payload.length) {\n  return {};\n', line: 3 },
  ])('$name → line $line', async ({ source, line }) => {
    const err = await host.add({ id: 'broken', kind: 'decoder', source });
    expect(err?.kind).toBe('compile');
    expect(err?.line).toBe(line);
    expect(err?.message).toMatch(new RegExp(`script broken: compile error at line ${line}`));
    const run = host.run('broken', [[1], {}], () => ({ ok: true, value: 1 }));
    expect(run.ok === false && run.error.kind).toBe('compile');
    expect(host.status().find((s) => s.id === 'broken')?.state).toBe('compile-error');
  });
});

describe('result checks', () => {
  const host = new ScriptHost();
  afterAll(() => host.stop());

  test.each([
    { source: 'return features.f * 10', input: { f: 5 }, ok: 50 },
    { source: 'return 100', input: {}, ok: 100 },
    { source: 'return 101', input: {}, error: /0–100, got 101/ },
    { source: 'return -1', input: {}, error: /0–100/ },
    { source: 'return "50"', input: {}, error: /got "50"/ },
    { source: 'return null', input: {}, error: /got null/ },
    { source: '', input: {}, error: /got undefined/ },
    { source: 'function score(f) { return Math.min(100, f.f * 30) }', input: { f: 2 }, ok: 60 },
  ])('score $source', async ({ source, input, ok, error }) => {
    await host.add({ id: 's', kind: 'score', source });
    const run = host.run('s', [input], checkScore);
    if (ok !== undefined) expect(run).toEqual({ ok: true, value: ok });
    else expect(run.ok === false && run.error.kind === 'runtime' && run.error.detail).toMatch(error as RegExp);
  });

  test.each([
    { source: 'return msg.v > 5', msg: { v: 6 }, ok: true },
    { source: 'return msg.v > 5', msg: { v: 5 }, ok: false },
    { source: 'return msg.v', msg: { v: 1 }, error: /true or false, got 1/ },
    { source: 'return metadata.deviceType === "kitchen-scale" && msgType === "EVENT"', msg: {}, ok: true },
  ])('condition $source', async ({ source, msg, ok, error }) => {
    await host.add({ id: 'c', kind: 'condition', source });
    const run = host.run('c', [msg, { deviceType: 'kitchen-scale' }, 'EVENT'], checkCondition);
    if (ok !== undefined) expect(run).toEqual({ ok: true, value: ok });
    else expect(run.ok === false && run.error.detail).toMatch(error as RegExp);
  });
});

describe('disabling a failing script', () => {
  test('3 failures in a row disable it for 60 s, visible in status; it comes back by itself', async () => {
    let now = Date.parse('2026-11-24T10:00:00Z');
    const disabled: string[] = [];
    const host = new ScriptHost({ clock: () => now, onDisabled: (id) => disabled.push(id) });
    await host.add({ id: 'flaky', kind: 'rule', source: 'if (msg.fail) throw new Error("bad reading " + msg.v); return msg.v' });
    const any = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });
    // Two failures, then a success: the count starts again.
    host.run('flaky', [{ fail: true, v: 1 }, {}, 'x'], any);
    host.run('flaky', [{ fail: true, v: 2 }, {}, 'x'], any);
    expect(host.run('flaky', [{ v: 3 }, {}, 'x'], any)).toEqual({ ok: true, value: 3 });
    for (let i = 0; i < 3; i++) host.run('flaky', [{ fail: true, v: i }, {}, 'x'], any);
    expect(disabled).toEqual(['flaky']);
    const st = host.status()[0];
    expect(st).toMatchObject({ id: 'flaky', state: 'disabled', failures: 5, failuresInARow: 3, disabledUntil: '2026-11-24T10:01:00.000Z' });
    expect(st.lastError).toMatchObject({ kind: 'runtime', message: 'Error: bad reading 2' });
    // While disabled, calls do not run (a good input is refused too).
    const refused = host.run('flaky', [{ v: 4 }, {}, 'x'], any);
    expect(refused).toMatchObject({ ok: false, disabled: true });
    expect(host.status()[0].calls).toBe(6);
    now += 59_999;
    expect(host.run('flaky', [{ v: 5 }, {}, 'x'], any).ok).toBe(false);
    now += 1;
    expect(host.run('flaky', [{ v: 6 }, {}, 'x'], any)).toEqual({ ok: true, value: 6 });
    expect(host.status()[0]).toMatchObject({ state: 'ok', failuresInARow: 0, disabledUntil: null });
    host.stop();
  });

  test('breaker table', () => {
    const b = new ScriptBreaker(3, 1000);
    const seq: Array<[string, number, boolean]> = [
      ['fail', 0, true],
      ['fail', 1, true],
      ['fail', 2, false], // third failure: disabled until 1002
      ['check', 500, false],
      ['check', 1001, false],
      ['check', 1002, true],
      ['fail', 1003, true],
    ];
    for (const [op, t, allowedAfter] of seq) {
      if (op === 'fail') b.failure(t);
      expect(b.allows(t)).toBe(allowedAfter);
    }
    expect(b.failuresInARow).toBe(1);
  });
});

describe('limits are configurable', () => {
  test('a longer time limit lets a slow script finish; a smaller memory limit stops a modest one', async () => {
    const slow = 'var s = 0; for (var i = 0; i < 3e6; i++) s += i; return s';
    const tight = new ScriptHost({ limits: { timeoutMs: 5 } });
    const loose = new ScriptHost({ limits: { timeoutMs: 5000 } });
    await tight.add({ id: 'slow', kind: 'rule', source: slow });
    await loose.add({ id: 'slow', kind: 'rule', source: slow });
    const any = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });
    expect(tight.run('slow', [{}, {}, 'x'], any)).toMatchObject({ ok: false, error: { kind: 'timeout' } });
    expect(loose.run('slow', [{}, {}, 'x'], any)).toEqual({ ok: true, value: 4499998500000 });
    const small = new ScriptHost({ limits: { memoryBytes: 1 << 20, timeoutMs: 2000 } });
    // The heap is measured by time during a run (at least 1 ms apart; between measurements the fixed WebAssembly
    // memory is the ceiling): the script holds its 2 MiB for a while, as a real one would, rather than returning
    // within a millisecond on a fast machine.
    await small.add({ id: 'two-mib', kind: 'rule', source: 'var a = []; for (var i = 0; i < 2000; i++) a.push(new Array(128).fill(i)); for (var j = 0; j < 1e6; j++) a.length; return a.length' });
    expect(small.run('two-mib', [{}, {}, 'x'], any)).toMatchObject({ ok: false, error: { kind: 'memory' } });
    for (const h of [tight, loose, small]) h.stop();
  });
});
