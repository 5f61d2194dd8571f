/**
 * Scripts that work near their memory ceiling (issue #21), each swallowing its out-of-memory errors so that it
 * keeps the engine allocating, collecting or unwinding until the time limit stops it. Shared by the benchmark
 * (`sandbox.stop_under_memory_pressure_*`, wall time) and test/sandbox/time-limit-under-pressure.test.ts (the
 * error class only). Bodies of a `function (msg) { … }` script.
 */
export const MEMORY_PRESSURE_SCRIPTS: ReadonlyArray<{ name: string; body: string }> = [
  { name: 'big string doubling', body: 'var s = "x"; for (;;) { try { s = s + s } catch (e) { s = "x" } }' },
  { name: 'big strings retained', body: 'var keep = []; for (;;) { try { keep.push("y".repeat(100000) + keep.length) } catch (e) { keep.pop() } }' },
  { name: 'arrays of objects', body: 'var keep = []; for (;;) { try { keep.push({ a: 1, b: [keep.length] }) } catch (e) { keep.length -= 10 } }' },
  {
    name: 'filled arrays, then churn',
    body: 'var keep = []; try { for (;;) keep.push(new Array(1000).fill(1)) } catch (e) {} keep.pop(); for (;;) { try { var x = new Array(500).fill(1) } catch (e) {} }',
  },
  { name: 'big sparse arrays', body: 'var keep = []; for (;;) { try { keep.push(new Array(200000)) } catch (e) { keep.pop() } }' },
  { name: 'near-full heap, then garbage', body: 'var keep = []; for (var i = 0; i < 450; i++) keep.push(new Array(1000).fill(i)); for (;;) { var x = { a: [1, 2, 3], b: "x" + i } }' },
  { name: 'big typed arrays', body: 'var keep = []; for (;;) { try { keep.push(new Float64Array(100000)) } catch (e) { keep.pop() } }' },
  { name: 'small typed arrays', body: 'var keep = []; for (;;) { try { keep.push(new Uint8Array(1000)) } catch (e) { keep.length -= 10 } }' },
  { name: 'Map growth', body: 'var m = new Map(), i = 0; for (;;) { try { m.set(i, { v: i }); i++ } catch (e) { for (var j = 0; j < 10; j++) m.delete(--i) } }' },
  { name: 'deep recursion that recurses again on overflow', body: 'function f(n, a) { try { return f(n + 1, [a]) } catch (e) { return f(0, a) } } f(0, [])' },
  { name: 'errors thrown at depth', body: 'function f(n) { if (n > 0) return f(n - 1); for (;;) { try { null.x } catch (e) {} } } f(1200)' },
];
