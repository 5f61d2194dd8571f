import { ScriptHost, checkDecoded, type ScriptErrorKind, type ScriptKind } from '../../agent/sandbox';

const anyJson = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });

interface HostileCase {
  name: string;
  kind?: ScriptKind;
  source: string;
  expect: ScriptErrorKind;
  /** part of the message */
  says?: RegExp;
}

// Each hostile script must fail with its class, quickly, and leave the host serving the good script.
const HOSTILE: HostileCase[] = [
  { name: 'infinite loop', source: 'while (true) {}', expect: 'timeout' },
  { name: 'infinite loop that catches the interrupt', source: 'for (;;) { try { while (true) {} } catch (e) {} }', expect: 'timeout' },
  { name: 'loop in a finally block', source: 'try { throw 1 } finally { for (;;) {} }', expect: 'timeout' },
  { name: 'deep recursion', source: 'function f(n) { return f(n + 1) + 1 } return f(0)', expect: 'memory', says: /stack/ },
  { name: 'recursion through getters', source: 'var o = {}; Object.defineProperty(o, "x", { get: function () { return this.x } }); return o.x', expect: 'memory' },
  { name: 'array allocation bomb', source: 'var a = []; while (true) a.push(new Array(1000).fill(1))', expect: 'memory' },
  { name: 'string doubling bomb', source: 'var s = "x"; while (true) s += s', expect: 'memory' },
  { name: 'retained strings under the single-allocation limit', source: 'var k = []; while (true) k.push("x".repeat(1e6) + k.length)', expect: 'memory' },
  { name: 'huge ArrayBuffer', source: 'return new ArrayBuffer(1e9).byteLength', expect: 'memory' },
  { name: 'allocation bomb that swallows out-of-memory', source: 'var a = []; for (;;) { try { a.push(new Array(10000).fill(a.length)) } catch (e) {} }', expect: 'memory' },
  { name: 'big allocations that swallow out-of-memory', source: 'var a = []; for (;;) { try { a.push(new Array(100000).fill(0)) } catch (e) {} }', expect: 'memory' },
  { name: 'catastrophic regex backtracking', source: 'return /(a+)+$/.test("a".repeat(40) + "b")', expect: 'timeout' },
  // far from the memory limit (a sort's own copy of a 2e5-element array and the array come close to 8 MiB)
  { name: 'sorting forever', source: 'var a = []; for (var i = 0; i < 5e4; i++) a.push(Math.random()); for (;;) a.sort(function (x, y) { return y - x })', expect: 'timeout' },
  { name: 'microtask flood is never run', source: 'function again() { Promise.resolve().then(again) } again(); return 1', expect: 'runtime', says: /must return/ },
  { name: 'require', source: 'return require("fs").readFileSync("/etc/passwd", "utf8")', expect: 'runtime', says: /'require' is not defined/ },
  { name: 'process', source: 'return process.env', expect: 'runtime', says: /'process' is not defined/ },
  { name: 'process via globalThis', source: 'return globalThis.process.pid', expect: 'runtime', says: /undefined/ },
  { name: 'host global through the Function constructor', source: 'return Function("return this")().process.mainModule', expect: 'runtime' },
  { name: 'constructor chain escape', source: 'return msg.constructor.constructor("return process")().exit(1)', expect: 'runtime', says: /'process' is not defined/ },
  { name: 'timers', source: 'setTimeout(function () {}, 10); return 1', expect: 'runtime', says: /'setTimeout' is not defined/ },
  { name: 'import()', source: 'return import("fs")', expect: 'runtime' },
  { name: 'network', source: 'return fetch("http://127.0.0.1/")', expect: 'runtime', says: /'fetch' is not defined/ },
  { name: 'huge output', source: 'var o = {}; for (var i = 0; i < 20000; i++) o["key" + i] = i; return o', expect: 'memory', says: /result is/ },
  { name: 'returns a function', source: 'return function () {}', expect: 'runtime', says: /not JSON/ },
  { name: 'returns a BigInt', source: 'return 10n', expect: 'runtime', says: /not JSON/ },
  { name: 'returns a cycle', source: 'var a = {}; a.self = a; return a', expect: 'runtime', says: /not JSON/ },
  { name: 'returns NaN', source: 'return 0 / 0', expect: 'runtime', says: /NaN/ },
  { name: 'returns a Promise', source: 'return Promise.resolve(1)', expect: 'runtime', says: /Promise/ },
  { name: 'toJSON that loops', source: 'return { toJSON: function () { for (;;) {} } }', expect: 'timeout' },
  { name: 'throws a string', source: 'throw "boom"', expect: 'runtime', says: /boom/ },
  { name: 'throws null', source: 'throw null', expect: 'runtime', says: /null/ },
  { name: 'throws an object whose message getter loops', source: 'throw { get message() { for (;;) {} }, name: "X" }', expect: 'timeout' },
  { name: 'throws an object whose toString throws', source: 'throw { toString: function () { throw new Error("nope") } }', expect: 'runtime' },
  { name: 'throws a Proxy', source: 'throw new Proxy({}, { get: function () { throw 1 } })', expect: 'runtime' },
  { name: 'replaces JSON and apply for the next caller', source: 'JSON.stringify = function () { return "{\\"pwned\\":1}" }; Function.prototype.apply = null; Reflect.apply = null; return { ok: 1 }', expect: 'runtime', says: /must return/ },
];

describe('hostile scripts', () => {
  const host = new ScriptHost({ limits: { timeoutMs: 50 } });
  // Which limit an allocation bomb meets first depends on the machine's speed (8 MiB of arrays takes QuickJS
  // 50-250 ms): cases about the memory limit get the time to reach it, the rest run at 50 ms.
  const memoryHost = new ScriptHost({ limits: { timeoutMs: 1000 } });
  const hostFor = (c: HostileCase): ScriptHost => (c.expect === 'memory' ? memoryHost : host);
  const good = 'return { telemetry: { t: payload[0] / 10 } }';

  beforeAll(async () => {
    for (const h of [host, memoryHost]) expect(await h.add({ id: 'good', kind: 'decoder', source: good })).toBeNull();
  });
  afterAll(() => {
    host.stop();
    memoryHost.stop();
  });

  test.each(HOSTILE)('$name → $expect', async (c) => {
    const id = `hostile-${c.name}`;
    const host = hostFor(c);
    expect(await host.add({ id, kind: c.kind ?? 'rule', source: c.source })).toBeNull();
    const started = Date.now();
    const check = c.name.startsWith('replaces JSON')
      ? (v: unknown) => (JSON.stringify(v) === '{"ok":1}' ? { ok: false as const, message: 'must return { ok: 1 } through the real JSON' } : anyJson(v))
      : c.name.startsWith('microtask')
        ? (v: unknown) => (v === 1 ? { ok: false as const, message: 'must return 1 without running queued jobs' } : anyJson(v))
        : anyJson;
    const run = host.run(id, [{ v: 1 }, {}, 'EVENT'], check);
    expect(run.ok).toBe(false);
    if (run.ok) return;
    expect(run.error.kind).toBe(c.expect);
    expect(run.error.scriptId).toBe(id);
    if (c.says) expect(run.error.detail).toMatch(c.says);
    // The limits end a runaway call promptly: 50 ms (or 1 s) of script, with headroom for a slow CI machine.
    expect(Date.now() - started).toBeLessThan(2000);
    await host.settled();
    // Other scripts keep working after each hostile one.
    const ok = host.run('good', [[215], {}], checkDecoded);
    expect(ok).toEqual({ ok: true, value: [{ telemetry: [{ values: { t: 21.5 } }], attributes: {}, events: [] }] });
  });

  test('a script that replaced JSON in its own VM still reports its real result shape', async () => {
    // The first run above replaced JSON.stringify; the captured one was used, so the result was { ok: 1 }.
    const st = host.status().find((s) => s.id.startsWith('hostile-replaces JSON'));
    expect(st?.lastError?.message).toMatch(/real JSON/);
  });

  test('a script cannot see another script or the host', async () => {
    await host.add({ id: 'writer', kind: 'rule', source: 'globalThis.secret = "s3cret"; return 1' });
    await host.add({ id: 'reader', kind: 'rule', source: 'return typeof globalThis.secret + "," + typeof global + "," + typeof module + "," + typeof __dirname' });
    expect(host.run('writer', [{}, {}, 'x'], anyJson)).toMatchObject({ ok: true, value: 1 });
    expect(host.run('reader', [{}, {}, 'x'], anyJson)).toMatchObject({ ok: true, value: 'undefined,undefined,undefined,undefined' });
  });

  test('prototype pollution stays inside the polluting script', async () => {
    await host.add({ id: 'polluter', kind: 'rule', source: 'Object.prototype.isAdmin = true; ({}).__proto__.polluted = 1; return ({}).isAdmin' });
    expect(host.run('polluter', [{}, {}, 'x'], anyJson)).toMatchObject({ ok: true, value: true });
    await host.add({ id: 'victim', kind: 'rule', source: 'return [({}).isAdmin === undefined, ({}).polluted === undefined]' });
    expect(host.run('victim', [{}, {}, 'x'], anyJson)).toMatchObject({ ok: true, value: [true, true] });
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    // Pollution through the argument object only touches the VM's copy.
    await host.add({ id: 'arg-polluter', kind: 'rule', source: 'msg.__proto__.hacked = 1; msg.constructor.prototype.hacked2 = 1; return 1' });
    const arg = { a: 1 };
    host.run('arg-polluter', [arg, {}, 'x'], anyJson);
    expect(({} as Record<string, unknown>).hacked).toBeUndefined();
    expect(({} as Record<string, unknown>).hacked2).toBeUndefined();
    expect(Object.keys(arg)).toEqual(['a']);
  });

  test('memory-exhausted scripts are rebuilt and run again', async () => {
    const host = memoryHost;
    await host.add({ id: 'sometimes-greedy', kind: 'rule', source: 'if (msg.greedy) { globalThis.keep = []; for (;;) keep.push(new Array(10000).fill(1)) } return (globalThis.keep || []).length' });
    const r1 = host.run('sometimes-greedy', [{ greedy: true }, {}, 'x'], anyJson);
    expect(r1.ok === false && r1.error.kind).toBe('memory');
    await host.settled();
    expect(host.run('sometimes-greedy', [{ greedy: false }, {}, 'x'], anyJson)).toMatchObject({ ok: true, value: 0 });
  });
});
