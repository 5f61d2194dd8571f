import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { ScriptError } from './script-error';
import { HeapExhausted, ceilingBytes, quickjsInFixedMemory } from './quickjs-instance';
import type { ScriptLimits } from './script-limits';
import { COMPILE_TIMEOUT_MS, RunDeadline } from './run-deadline';
import { BODY_LINE_OFFSET, bodyWrapper, KIND_SHAPES, type ScriptKind } from './script-kind';
import { MEMORY_ERROR_MESSAGES, PRELUDE_SOURCE } from './prelude';
import type { ScriptLanguage } from './script-language';
import { TBEL_RUNTIME_SOURCE } from './tbel/tbel-runtime';
import { TbelSyntaxError } from './tbel/tbel-lexer';
import { translateTbel } from './tbel/tbel-to-js';
import { callArgsJson } from './call-args';

/** Retained heap is measured every this many calls (one measurement costs ~30 µs; a call ~5 µs). */
const MEMORY_CHECK_EVERY = 256;

/**
 * How often QuickJS asks whether to stop a running script. QuickJS counts "ticks" (calls and backward jumps) and
 * polls the interrupt handler once every 10,000 of them, whatever a tick costs. Most cost ~35 ns, but some cost a
 * millisecond or more: a throw at depth builds a backtrace of every frame (1.3 ms at 1,000 frames, measured), a
 * garbage collection walks the whole heap near the memory ceiling. 10,000 such ticks run for seconds past the
 * deadline. The handler therefore resets QuickJS's countdown to this many ticks at every poll, bounding the gap
 * to POLL_EVERY_TICKS expensive ticks. A poll costs ~0.1 µs (a clock read; the heap is measured by time, below):
 * nothing measurable on a decoder call, ~35% on the tightest possible loop (measured).
 */
const POLL_EVERY_TICKS = 16;
/**
 * Where QuickJS keeps that countdown: `JSContext.interrupt_counter`, byte 232 of the struct in the wasm32 build of
 * quickjs 2025-09-13 (`@jitl/quickjs-wasmfile-release-sync` 0.32), verified in every new instance before it
 * is written (`findCountdown`); a build with another layout is refused, never written blindly.
 */
const INTERRUPT_COUNTER_OFFSET = 232;
const QUICKJS_COUNTDOWN_INIT = 10000;
/**
 * While a script runs, its heap is measured by time, not at every poll: a measurement walks the heap (30 µs on a
 * small heap, ~2 ms on a full one, measured), so the next one is due after this many times the last one's cost
 * (at most ~10% of the run), and at least HEAP_CHECK_MIN_INTERVAL_MS later; once more when the deadline passes,
 * so that an allocation bomb is reported as memory. Between measurements the fixed WebAssembly memory is the
 * ceiling.
 */
const HEAP_CHECK_COST_FACTOR = 10;
const HEAP_CHECK_MIN_INTERVAL_MS = 1;

export interface CallOutcome {
  value: unknown;
  /** console lines of this call (only read when asked: `script test`) */
  logs?: string[];
}

/** A call's result as the script's JSON text (undefined when it returned undefined), as it crosses threads. */
export interface JsonCallOutcome {
  json: string | undefined;
  logs?: string[];
}


/**
 * One user script in its own QuickJS instance with its own fixed-size WebAssembly memory. QuickJS's memory limit
 * cannot be trusted on its own in this build (its accounting does not see the size of most allocations, see
 * quickjs-emscripten#271), so the hard ceiling is the WebAssembly memory itself: 16 MiB base plus the limit,
 * which no allocation can pass. The limit proper is enforced by measuring the heap while a script runs (in the
 * interrupt handler) and between calls. Nothing of the host is reachable: no host function is ever installed.
 */
export class IsolatedScript {
  private readonly deadline = new RunDeadline();
  /** when the heap is next measured during the current run (performance.now() ms) */
  private heapCheckDue = 0;
  /** int32 index of QuickJS's interrupt countdown in the memory, once verified by findCountdown */
  private countdownIndex: number | null = null;
  private countdownProbe = -1;
  private words: Int32Array;
  private timedOut = false;
  private overMemory = false;
  /** interrupt polls in the current (or last) run: how closely the run was watched */
  pollsInRun = 0;
  private calls = 0;
  /** the instance is unusable (heap exhausted or engine fault) and must be rebuilt */
  broken = false;
  private language: ScriptLanguage = 'js';
  /** the fixed WebAssembly memory's size: the hard ceiling */
  private readonly ceilingBytes: number;

  private constructor(
    readonly id: string,
    readonly kind: ScriptKind,
    readonly limits: ScriptLimits,
    private readonly memory: WebAssembly.Memory,
    private readonly rt: QuickJSRuntime,
    private readonly ctx: QuickJSContext,
    /** the user function bound into the prelude's invoker: takes the arguments as one JSON string */
    private fn: QuickJSHandle | null,
    private readonly takeLogs: QuickJSHandle,
  ) {
    this.ceilingBytes = ceilingBytes(limits.memoryBytes);
    this.words = new Int32Array(memory.buffer);
  }

  /** Compiles a script once; throws a ScriptError (`compile`, or `timeout`/`memory` from a runaway expression). */
  static async compile(
    id: string,
    kind: ScriptKind,
    source: string,
    limits: ScriptLimits,
    filename = `${id}.js`,
    language: ScriptLanguage = 'js',
  ): Promise<IsolatedScript> {
    // TBEL is translated before any VM exists: a syntax error costs no instance.
    let tbelJs: string | null = null;
    if (language === 'tbel') {
      try {
        tbelJs = translateTbel(source, KIND_SHAPES[kind].params, kind === 'decoder' ? 'payload' : undefined).js;
      } catch (err) {
        if (err instanceof TbelSyntaxError) throw new ScriptError('compile', id, `TBEL syntax error: ${err.detail}`, err.line, err.col);
        throw err;
      }
    }
    const { memory, qjs } = await quickjsInFixedMemory(limits.memoryBytes);
    const rt = qjs.newRuntime();
    // Bounds a single allocation; the running total is measured by us (see class comment).
    rt.setMemoryLimit(limits.memoryBytes);
    rt.setMaxStackSize(limits.stackBytes);
    const ctx = rt.newContext();
    const pair = ctx.unwrapResult(ctx.evalCode(PRELUDE_SOURCE, 'prelude.js'));
    if (tbelJs !== null) ctx.unwrapResult(ctx.evalCode(TBEL_RUNTIME_SOURCE, 'tbel-runtime.js')).dispose();
    const makeInvoker = ctx.getProp(pair, 0);
    const takeLogs = ctx.getProp(pair, 1);
    pair.dispose();
    const script = new IsolatedScript(id, kind, limits, memory, rt, ctx, null, takeLogs);
    script.language = language;
    rt.setInterruptHandler(() => script.shouldInterrupt());
    try {
      script.findCountdown();
      const userFn = tbelJs === null ? script.compileFunction(source, filename) : script.compileTranslated(tbelJs, filename);
      const maxOut = ctx.newNumber(limits.maxOutputBytes);
      script.fn = ctx.unwrapResult(ctx.callFunction(makeInvoker, ctx.undefined, userFn, maxOut));
      maxOut.dispose();
      userFn.dispose();
    } catch (err) {
      script.dispose();
      if (err instanceof HeapExhausted) throw new ScriptError('memory', id, 'the script ran out of memory while loading');
      throw err;
    }
    return script;
  }

  /**
   * Polled by QuickJS every POLL_EVERY_TICKS ticks (after this handler's first call). The deadline is checked at
   * every poll; the heap by time. Memory first: an allocation bomb that reaches its deadline is reported as such.
   */
  private shouldInterrupt(): boolean {
    this.pollsInRun++;
    this.shortenCountdown();
    const now = performance.now(); // monotonic: a clock step does not end or extend a run
    const late = this.deadline.passed(now, this.pollsInRun === 1);
    if (late || now >= this.heapCheckDue) {
      let over: boolean;
      try {
        over = this.memoryExhausted() || this.heapBytes() > this.limits.memoryBytes;
      } catch {
        over = true; // too full even to measure itself
      }
      const finished = performance.now();
      this.heapCheckDue = finished + Math.max(HEAP_CHECK_MIN_INTERVAL_MS, HEAP_CHECK_COST_FACTOR * (finished - now));
      if (over) {
        this.overMemory = true;
        return true;
      }
    }
    if (late) {
      this.timedOut = true;
      return true;
    }
    return false;
  }

  /** Sets QuickJS's countdown to the next poll (see POLL_EVERY_TICKS). */
  private shortenCountdown(): void {
    const words = this.wordsNow();
    if (this.countdownIndex === null) {
      // the first poll after findCountdown: QuickJS has just reset the countdown, the word must hold that value
      if (words[this.countdownProbe] !== QUICKJS_COUNTDOWN_INIT) return;
      this.countdownIndex = this.countdownProbe;
    }
    words[this.countdownIndex] = POLL_EVERY_TICKS;
  }

  /** The memory as 32-bit words (a grown memory has a new buffer). */
  private wordsNow(): Int32Array {
    if (this.words.buffer !== this.memory.buffer) this.words = new Int32Array(this.memory.buffer);
    return this.words;
  }

  /**
   * Finds QuickJS's interrupt countdown before any user code runs, so that a script is polled from its first
   * tick. The candidate word must look like the countdown (1..10,000); it is set to 1, and one evaluation must then
   * poll the handler with the word just reset to 10,000. Any other QuickJS layout fails here, at the first script
   * any test loads, instead of running scripts whose time limit does not hold (the probed instance is discarded).
   */
  private findCountdown(): void {
    const contextAddress = (this.ctx as unknown as { ctx: { value: unknown } }).ctx.value;
    const index = typeof contextAddress === 'number' ? (contextAddress + INTERRUPT_COUNTER_OFFSET) >> 2 : -1;
    const word = index >= 0 ? this.wordsNow()[index] : undefined;
    if (word !== undefined && word >= 1 && word <= QUICKJS_COUNTDOWN_INIT) {
      this.countdownProbe = index;
      this.wordsNow()[index] = 1;
      this.arm(COMPILE_TIMEOUT_MS);
      const probe = this.ctx.evalCode('0', 'countdown-probe.js');
      (probe.error ?? probe.value).dispose();
    }
    if (this.countdownIndex === null) {
      throw new Error(`this QuickJS build keeps its interrupt countdown elsewhere (word at +${INTERRUPT_COUNTER_OFFSET}: ${String(word)}); the sandbox cannot bound a script's time`);
    }
  }

  /** Bytes the script's runtime holds now (QuickJS walks its heap: ~30 µs). */
  heapBytes(): number {
    // The usage object lives in the runtime's system context; any context of the same runtime can read it.
    const usage = this.rt.computeMemoryUsage();
    const used = this.ctx.getProp(usage, 'memory_used_size');
    const n = this.ctx.getNumber(used);
    used.dispose();
    usage.dispose();
    return n;
  }

  /** A whole function (`function Decoder(…) {…}`, `function (msg, …) {…}`, an arrow) or a function body. */
  private compileFunction(source: string, filename: string): QuickJSHandle {
    const loadTimeoutMs = Math.max(COMPILE_TIMEOUT_MS, this.limits.timeoutMs);
    this.arm(loadTimeoutMs);
    const asExpression = this.ctx.evalCode(`(${source}\n)`, filename);
    if (!asExpression.error) {
      if (this.ctx.typeof(asExpression.value) === 'function') return asExpression.value;
      asExpression.value.dispose();
    } else {
      asExpression.error.dispose();
    }
    this.arm(loadTimeoutMs);
    const asBody = this.ctx.evalCode(bodyWrapper(this.kind, source), filename);
    if (!asBody.error) return asBody.value;
    const e = this.errorOf(asBody.error);
    if (this.timedOut) throw new ScriptError('timeout', this.id, 'the script did not finish loading in time');
    if (this.overMemory || e.memory) throw new ScriptError('memory', this.id, 'the script ran out of memory while loading');
    // Errors past the end (an unclosed brace) are reported on the source's last line.
    const line = e.line !== undefined ? Math.min(Math.max(1, e.line - BODY_LINE_OFFSET), source.split('\n').length) : undefined;
    throw new ScriptError('compile', this.id, e.message, line, e.column);
  }

  /** A TBEL script's JavaScript translation: it parsed as TBEL, so a failure here is the translator's, not the user's. */
  private compileTranslated(js: string, filename: string): QuickJSHandle {
    this.arm(Math.max(COMPILE_TIMEOUT_MS, this.limits.timeoutMs));
    const res = this.ctx.evalCode(js, filename);
    if (!res.error) return res.value;
    const e = this.errorOf(res.error);
    if (this.timedOut) throw new ScriptError('timeout', this.id, 'the script did not finish loading in time');
    if (this.overMemory || e.memory) throw new ScriptError('memory', this.id, 'the script ran out of memory while loading');
    throw new ScriptError('compile', this.id, `TBEL construct not supported by this engine (${e.message})`);
  }

  private errorOf(handle: QuickJSHandle): { message: string; line?: number; column?: number; memory: boolean } {
    try {
      const d: unknown = this.ctx.dump(handle);
      if (d && typeof d === 'object') {
        const o = d as { name?: unknown; message?: unknown; lineNumber?: unknown; stack?: unknown };
        const message = `${String(o.name ?? 'Error')}: ${String(o.message ?? '')}`;
        const at = typeof o.stack === 'string' ? /:(\d+):(\d+)/.exec(o.stack) : null;
        const line = typeof o.lineNumber === 'number' ? o.lineNumber : at ? Number(at[1]) : undefined;
        const column = at ? Number(at[2]) : undefined;
        return { message, line, column, memory: typeof o.message === 'string' && MEMORY_ERROR_MESSAGES.includes(o.message) };
      }
      return { message: `threw ${String(d)}`, memory: d === null && this.memoryExhausted() };
    } catch {
      return { message: 'unreadable error', memory: this.memoryExhausted() };
    } finally {
      handle.dispose();
    }
  }

  private memoryExhausted(): boolean {
    return this.memory.buffer.byteLength >= this.ceilingBytes;
  }

  /** Starts the limits for one run (a call, or loading the script). */
  private arm(timeoutMs: number): void {
    this.timedOut = false;
    this.overMemory = false;
    this.deadline.arm(timeoutMs);
    this.heapCheckDue = performance.now() + HEAP_CHECK_MIN_INTERVAL_MS; // a short call is not measured (see call)
    this.pollsInRun = 0;
    if (this.countdownIndex !== null) this.wordsNow()[this.countdownIndex] = POLL_EVERY_TICKS; // polled from the first ticks
  }

  /** The memory-class error of a run that exhausted the heap; the instance is rebuilt before the next call. */
  private exhausted(): ScriptError {
    this.broken = true;
    return new ScriptError('memory', this.id, `exceeded ${mib(this.limits.memoryBytes)}`);
  }

  /** Runs the script once with JSON-able arguments; throws a classified ScriptError. */
  call(args: readonly unknown[], opts: { logs?: boolean } = {}): CallOutcome {
    const out = this.callJson(callArgsJson(this.kind, this.language, args), opts);
    const value: unknown = out.json === undefined ? undefined : JSON.parse(out.json);
    return out.logs ? { value, logs: out.logs } : { value };
  }

  /** Runs the script once with its arguments as JSON text (callArgsJson); the result stays JSON text. */
  callJson(argsJson: string, opts: { logs?: boolean } = {}): JsonCallOutcome {
    if (this.fn === null) throw new ScriptError('runtime', this.id, 'script is not loaded');
    if (this.broken) throw new ScriptError('memory', this.id, 'script is being reloaded after exhausting its memory');
    if (++this.calls % MEMORY_CHECK_EVERY === 0) {
      const held = this.heapBytes();
      if (held > this.limits.memoryBytes) {
        this.broken = true;
        throw new ScriptError('memory', this.id, `holds ${mib(held)} between calls, limit ${mib(this.limits.memoryBytes)}`);
      }
    }
    this.arm(this.limits.timeoutMs);
    let tagged: string;
    try {
      const argsHandle = this.ctx.newString(argsJson);
      const res = this.ctx.callFunction(this.fn, this.ctx.undefined, argsHandle);
      argsHandle.dispose();
      if (res.error) {
        const e = this.errorOf(res.error);
        if (this.overMemory || e.memory) throw this.exhausted();
        if (this.timedOut) throw new ScriptError('timeout', this.id, `took longer than ${this.limits.timeoutMs} ms`);
        throw new ScriptError('runtime', this.id, e.message);
      }
      tagged = this.ctx.getString(res.value);
      res.value.dispose();
    } catch (err) {
      if (err instanceof ScriptError) throw err;
      // A host-side failure here means the instance itself is gone (WebAssembly trap, heap too full to answer).
      if (err instanceof HeapExhausted || this.memoryExhausted()) throw this.exhausted();
      this.broken = true;
      throw new ScriptError('runtime', this.id, `engine fault: ${(err as Error).message}`);
    }
    const json = this.decode(tagged);
    return opts.logs ? { json, logs: this.readLogs() } : { json };
  }

  /** The result's JSON text from the prelude's tagged string, or the classified error. */
  private decode(tagged: string): string | undefined {
    const rest = tagged.slice(1);
    switch (tagged[0]) {
      case 'O':
        return rest;
      case 'U':
        return undefined;
      case 'M':
        if (rest === 'out of memory') throw this.exhausted();
        this.broken = true;
        throw new ScriptError('memory', this.id, rest === 'stack overflow' ? 'stack overflow (recursion too deep)' : rest);
      case 'L':
        throw new ScriptError('memory', this.id, `result is ${rest} characters of JSON, limit ${this.limits.maxOutputBytes}`);
      case 'N':
        throw new ScriptError('runtime', this.id, `result is not JSON: ${rest}`);
      default: {
        if (rest === 'threw null' && this.memoryExhausted()) throw this.exhausted();
        throw new ScriptError('runtime', this.id, rest.length > 300 ? `${rest.slice(0, 297)}...` : rest);
      }
    }
  }

  private readLogs(): string[] {
    try {
      const res = this.ctx.callFunction(this.takeLogs, this.ctx.undefined);
      if (res.error) {
        res.error.dispose();
        return [];
      }
      const json = this.ctx.getString(res.value);
      res.value.dispose();
      return JSON.parse(json) as string[];
    } catch {
      return [];
    }
  }

  /**
   * Drops the instance. Nothing is freed inside QuickJS: the script's whole heap is its own WebAssembly memory,
   * which goes with the instance, and a runtime that still holds objects (a script's globals) aborts on free.
   */
  dispose(): void {
    this.fn = null;
  }
}

/** Pages of a script's fixed memory: what QuickJS needs before any script allocates, plus the limit. */

const mib = (n: number): string => `${(n / 1048576).toFixed(n < 1048576 ? 2 : 1)} MiB`;
