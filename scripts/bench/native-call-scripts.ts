/**
 * Scripts stuck in long native calls of QuickJS (issue #21): JSON, string and array built-ins, RegExp, BigInt,
 * where QuickJS does not poll the time limit (or polls only between calls), so the script worker is stopped from
 * outside. Shared by the benchmark (`sandbox.native_stop_after_deadline_max_*`, wall time) and
 * test/sandbox/native-call-limit.test.ts (the outcome only). Bodies of a rule script; each runs for about a second
 * or more (the loops: forever) unstopped, within a 64 MiB memory limit. `neverPolled`: one native call of a second
 * or more (measured: 0.75 s and 4.4 s on a loaded 2-core machine), which only stopping the worker can end at 2x a
 * 50 ms limit. (`3n ** 3000000n` is no such call: ~0.1 s, then a poll.)
 */
export const NATIVE_CALL_SCRIPTS: ReadonlyArray<{ name: string; body: string; neverPolled?: boolean }> = [
  { name: 'json_parse_2mb', body: 'var s = "[" + "{\\"a\\":1,\\"b\\":[1,2,3]},".repeat(100000) + "0]"; for (;;) JSON.parse(s)' },
  { name: 'json_stringify', body: 'var a = []; for (var i = 0; i < 100000; i++) a.push({ a: i, b: "x" + i }); for (;;) JSON.stringify(a)' },
  { name: 'regexp_backtracking', body: 'return /(a+)+$/.test("a".repeat(40) + "b")' },
  { name: 'sort_2m', body: 'var a = []; for (var i = 0; i < 2e6; i++) a.push((i * 7919) % 1000003); a.sort(); return a[0]' },
  { name: 'string_builtins', body: 'var s = "ab".repeat(2e6); for (;;) { s.padEnd(6e6, "xy").replaceAll("a", "cd").split("b").join("e") }' },
  // BigInt's limit is ~1M bits: converting such a number to decimal takes seconds (quadratic), parsing ~300k digits ~1 s
  { name: 'bigint_to_string', body: 'return (1n << 1000000n).toString().length', neverPolled: true },
  { name: 'bigint_parse', body: 'return String(BigInt("7".repeat(300000)) % 1000n)', neverPolled: true },
];
