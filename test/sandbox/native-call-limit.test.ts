import { ScriptHost, checkDecoded, type ScriptKind } from '../../agent/sandbox';
import { timeScale } from '../support/time-scale';
import { NATIVE_CALL_SCRIPTS } from '../../scripts/bench/native-call-scripts';

// Issue #21: a script is stopped within 2x its time limit whatever it does, also inside one long native call of
// QuickJS (JSON, string and array built-ins, BigInt, RegExp), where QuickJS never polls the time limit. Such a call
// is stopped by terminating the worker thread the scripts run in; the call answers a timeout like a polled stop,
// and every script runs again in a fresh worker. How soon after the deadline is a benchmark figure (`npm run bench
// -- --only sandbox`: sandbox.native_stop_after_deadline_max_*); here, a generous bound only proves "stopped rather
// than ran to completion": the loops run forever unstopped, and a single long native call is shown stopped from
// outside by the worker restart it costs.
const LIMIT_MS = 50;
const STOPPED_WITHIN_MS = 5000 * timeScale();

const anyJson = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });

interface NativeCase {
  name: string;
  kind: ScriptKind;
  /** hostile when its input says so (`huge`), else returns 2 * v: the same script's next call must work */
  source: string;
  hostileArgs: unknown[];
  goodArgs: unknown[];
  good: unknown;
  /** a single native call of a second or more: only stopping the worker can end it at 2x the limit */
  neverPolled?: boolean;
}

const rule = (hostile: string): string => `if (msg.huge) { ${hostile} } return msg.v * 2`;
const ruleArgs = (huge: boolean): unknown[] => [{ huge, v: 21 }, {}, 'EVENT'];

const CASES: NativeCase[] = [
  {
    name: 'a decoder parsing a 2 MB JSON string it built, over and over',
    kind: 'decoder',
    source: 'if (payload[0] === 1) { var s = "[" + "{\\"a\\":1,\\"b\\":[1,2,3]},".repeat(100000) + "0]"; for (;;) JSON.parse(s) } return { telemetry: { t: payload[1] } }',
    hostileArgs: [[1, 0], {}],
    goodArgs: [[0, 42], {}],
    good: [{ telemetry: [{ values: { t: 42 } }], attributes: {}, events: [] }],
  },
  // JSON.stringify, RegExp, a sort of 2M elements, string built-ins on huge strings, BigInt on huge numbers
  ...NATIVE_CALL_SCRIPTS.map(({ name, body, neverPolled }) => ({ name, kind: 'rule' as const, source: rule(body), hostileArgs: ruleArgs(true), goodArgs: ruleArgs(false), good: 42, neverPolled })),
];

describe('a long native call inside QuickJS is stopped', () => {
  // room for the data of these cases: the time limit, not the memory limit, must end them
  const host = new ScriptHost({ limits: { timeoutMs: LIMIT_MS, memoryBytes: 64 * 1048576 } });
  const other = 'return { telemetry: { t: payload[0] / 10 } }';

  beforeAll(async () => {
    expect(await host.add({ id: 'other', kind: 'decoder', source: other })).toBeNull();
  });
  afterAll(() => host.stop());

  test.each(CASES)('$name', async (c) => {
    const id = `native-${c.name}`;
    expect(await host.add({ id, kind: c.kind, source: c.source })).toBeNull();
    const check = c.kind === 'decoder' ? checkDecoded : anyJson;
    const restartsBefore = host.sandbox().workerRestarts;
    const started = performance.now();
    const run = host.run(id, c.hostileArgs, check);
    expect(performance.now() - started).toBeLessThan(STOPPED_WITHIN_MS);
    expect(run).toMatchObject({ ok: false, disabled: false, error: { kind: 'timeout', scriptId: id, detail: `took longer than ${LIMIT_MS} ms` } });
    if (c.neverPolled) expect(host.sandbox().workerRestarts).toBe(restartsBefore + 1);
    expect(host.status().find((s) => s.id === id)).toMatchObject({ failuresInARow: 1, lastError: { kind: 'timeout' } });
    // The same script's next call and another script's call work (in a fresh worker if the last one was stopped).
    expect(host.run(id, c.goodArgs, check)).toEqual({ ok: true, value: c.good });
    expect(host.run('other', [[215], {}], checkDecoded)).toEqual({ ok: true, value: [{ telemetry: [{ values: { t: 21.5 } }], attributes: {}, events: [] }] });
    expect(host.status().find((s) => s.id === id)).toMatchObject({ state: 'ok', failuresInARow: 0, failures: 1 });
  });

  test('a stopped script is disabled after 3 timeouts in a row like any other, and the others go on', async () => {
    const id = 'native-thrice';
    expect(await host.add({ id, kind: 'rule', source: rule(NATIVE_CALL_SCRIPTS.find((c) => c.name === 'bigint_to_string')!.body) })).toBeNull();
    const restartsBefore = host.sandbox().workerRestarts;
    for (let i = 0; i < 3; i++) expect(host.run(id, ruleArgs(true), anyJson)).toMatchObject({ ok: false, disabled: false, error: { kind: 'timeout' } });
    expect(host.run(id, ruleArgs(false), anyJson)).toMatchObject({ ok: false, disabled: true });
    expect(host.sandbox()).toEqual({ workerRunning: expect.any(Boolean), workerRestarts: restartsBefore + 3 });
    expect(host.run('other', [[100], {}], checkDecoded)).toMatchObject({ ok: true });
    await host.settled();
    expect(host.status().filter((s) => s.state !== 'ok').map((s) => [s.id, s.state])).toEqual([[id, 'disabled']]);
  });

  test('what a script makes cross the worker is bounded: a 5 MB error message arrives as 1,000 characters, 10 MB of console as 100 lines', async () => {
    const roomy = new ScriptHost({ limits: { timeoutMs: 5000 } });
    try {
      const source = 'for (var i = 0; i < 1000; i++) console.log("y".repeat(10000)); if (msg.huge) throw new Error("x".repeat(5e6)); return 1';
      expect(await roomy.add({ id: 'loud', kind: 'rule', source })).toBeNull();
      const failed = roomy.run('loud', ruleArgs(true), anyJson, { logs: true });
      expect(failed).toMatchObject({ ok: false, error: { kind: 'runtime' } });
      if (failed.ok) return;
      expect(failed.error.detail).toMatch(/^Error: x+\.\.\.$/);
      expect(failed.error.detail.length).toBeLessThanOrEqual(1000);
      const logged = roomy.run('loud', ruleArgs(false), anyJson, { logs: true });
      expect(logged).toMatchObject({ ok: true, value: 1 });
      expect(logged.logs).toHaveLength(100); // the prelude keeps 100 lines of 500 characters
      expect(Math.max(...(logged.logs ?? []).map((l) => l.length))).toBeLessThanOrEqual(510);
    } finally {
      roomy.stop();
    }
  });

  test('console lines and results cross the worker, large ones too', async () => {
    // a result over the shared area's size goes through the worker's message port
    const big = new ScriptHost({ limits: { timeoutMs: 2000, maxOutputBytes: 2 * 1048576 } });
    try {
      expect(await big.add({ id: 'echo', kind: 'rule', source: 'console.log("len", msg.s.length); return { s: msg.s + "!", n: metadata.n }' })).toBeNull();
      for (const s of ['é'.repeat(10), 'x€'.repeat(300_000)]) {
        const r = big.run('echo', [{ s }, { n: 7 }, 'EVENT'], anyJson, { logs: true });
        expect(r).toEqual({ ok: true, value: { s: `${s}!`, n: 7 }, logs: [`log len ${s.length}`] });
      }
    } finally {
      big.stop();
    }
  });
});

describe('a script worker that dies', () => {
  test('mid-call (out of its own heap): the call fails at its deadline, the worker is replaced, the next calls work, the process lives', async () => {
    // A result of 4 M characters is 8 MB strings in the worker's own V8 heap, past an 8 MiB limit: Node
    // ends the worker thread (ERR_WORKER_OUT_OF_MEMORY), not the process. With the default limit it is answered.
    const host = new ScriptHost({ limits: { timeoutMs: 250, maxOutputBytes: 8 * 1048576, memoryBytes: 64 * 1048576 }, workerHeapMb: 8 });
    try {
      expect(await host.add({ id: 'big', kind: 'rule', source: 'return msg.big ? "x€".repeat(2e6) : msg.v * 2' })).toBeNull();
      expect(await host.add({ id: 'other', kind: 'decoder', source: 'return { telemetry: { t: payload[0] } }' })).toBeNull();
      const run = host.run('big', [{ big: true }, {}, 'EVENT'], anyJson);
      expect(run).toMatchObject({ ok: false, disabled: false, error: { kind: 'timeout', scriptId: 'big' } });
      expect(host.sandbox().workerRestarts).toBe(1);
      expect(host.run('big', [{ v: 21 }, {}, 'EVENT'], anyJson)).toEqual({ ok: true, value: 42 });
      expect(host.run('other', [[7], {}], checkDecoded)).toMatchObject({ ok: true, value: [{ telemetry: [{ values: { t: 7 } }] }] });
    } finally {
      host.stop();
    }
  });
});
