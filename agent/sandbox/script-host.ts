import { callArgsJson } from './call-args';
import { COMPILE_TIMEOUT_MS, HARD_LIMIT_FACTOR } from './run-deadline';
import type { SandboxAnswer, SandboxWorker } from './sandbox-worker';
import type { WorkerError, WorkerRequest } from './script-worker';
import { DEFAULT_LIMITS, type ScriptLimits } from './script-limits';
import { ScriptBreaker } from './script-breaker';
import { ScriptError, type ScriptErrorKind } from './script-error';
import type { Checked, ScriptKind } from './script-kind';
import type { ScriptLanguage } from './script-language';

/**
 * worker_threads and QuickJS's code load with the first script, and the engine itself (QuickJS's glue, the TBEL
 * runtime) only in the script worker: `edge-agent run` on a config without scripts loads none of them (cold start
 * and memory on a Pi, issue #24; test/cli/run-loads.test.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const quickjsCode = (): typeof import('./quickjs-code') => require('./quickjs-code') as typeof import('./quickjs-code');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sandboxWorker = (): typeof import('./sandbox-worker') => require('./sandbox-worker') as typeof import('./sandbox-worker');

export interface ScriptDefinition {
  id: string;
  kind: ScriptKind;
  source: string;
  /** where the source came from (shown in errors); inline scripts have none */
  file?: string;
  /** JavaScript unless said otherwise */
  language?: ScriptLanguage;
}

export type ScriptRun<T> = { ok: true; value: T; logs?: string[] } | { ok: false; error: ScriptError; disabled: boolean; logs?: string[] };

export interface ScriptStatus {
  id: string;
  kind: ScriptKind;
  state: 'ok' | 'disabled' | 'compile-error' | 'reloading';
  calls: number;
  failures: number;
  failuresInARow: number;
  lastError: { kind: ScriptErrorKind; message: string; at: string } | null;
  disabledUntil: string | null;
}

interface Entry {
  def: ScriptDefinition;
  /** compiled in the current worker */
  loaded: boolean;
  compileError: ScriptError | null;
  breaker: ScriptBreaker;
  calls: number;
  failures: number;
  lastError: { error: ScriptError; at: number } | null;
}

export interface ScriptHostOptions {
  limits?: Partial<ScriptLimits>;
  clock?: () => number;
  /** told when a script gets disabled (3 failures in a row) — the agent logs it */
  onDisabled?: (id: string, error: ScriptError, until: number) => void;
  /** the script worker's own V8 heap limit, MiB (sandbox-worker.ts WORKER_HEAP_MB; tests make a worker die with it) */
  workerHeapMb?: number;
}

/** The script worker's state, for /metrics and `status`. */
export interface SandboxStatus {
  /** a worker is running (it starts with the first script) */
  workerRunning: boolean;
  /** workers replaced after one was stopped from outside (a call past 2x its limit) or died */
  workerRestarts: number;
}

/**
 * The agent's script executor (the js-executor role, DESIGN §8): compiles each configured script once into its
 * own isolated QuickJS instance, runs it under the limits, classifies failures, and disables a script that
 * fails three times in a row for a minute. One bad script never affects another: they share no engine state.
 *
 * The instances live in one worker thread per host (sandbox-worker.ts), called synchronously: a call that is
 * still running at twice its time limit (a long native call inside QuickJS never polls the time limit) is
 * stopped by terminating the worker, answered as a timeout like any other, and every script is compiled again
 * in a fresh worker. A script's own globals do not survive that (nor a memory error); what a caller keeps
 * between calls (a generator's previous message) is the caller's, passed in each call.
 */
export class ScriptHost {
  readonly limits: ScriptLimits;
  private readonly entries = new Map<string, Entry>();
  private readonly clock: () => number;
  private worker: SandboxWorker | null = null;
  private workerRestarts = 0;
  /** the background task compiling scripts that are not loaded (after a restart or a memory error) */
  private loading: Promise<void> | null = null;

  constructor(private readonly opts: ScriptHostOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.clock = opts.clock ?? Date.now;
  }

  /** Compiles and registers a script (replacing one with the same id); returns its compile error, if any. */
  async add(def: ScriptDefinition): Promise<ScriptError | null> {
    const entry: Entry = { def, loaded: false, compileError: null, breaker: new ScriptBreaker(), calls: 0, failures: 0, lastError: null };
    this.entries.set(def.id, entry);
    await quickjsCode().quickjsWasmCompiled();
    await this.currentWorker().started();
    if (this.entries.get(def.id) === entry && !entry.loaded) this.load(entry);
    return entry.compileError;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Runs a script and checks its result; never throws for anything the script does. */
  run<T>(id: string, args: readonly unknown[], check: (value: unknown) => Checked<T>, opts: { logs?: boolean } = {}): ScriptRun<T> {
    const entry = this.entries.get(id);
    if (!entry) return { ok: false, error: new ScriptError('runtime', id, 'no such script'), disabled: false };
    if (entry.compileError) return { ok: false, error: entry.compileError, disabled: false };
    const now = this.clock();
    if (!entry.breaker.allows(now)) {
      const last = entry.lastError?.error ?? new ScriptError('runtime', id, 'disabled');
      return { ok: false, error: last, disabled: true };
    }
    const unavailable = this.ready(entry);
    if (unavailable) return { ok: false, error: unavailable, disabled: false };
    if (entry.compileError) return { ok: false, error: entry.compileError, disabled: false };
    entry.calls++;
    let logs: string[] | undefined;
    let error: ScriptError;
    const answer = this.request({ op: 'call', id, logs: opts.logs === true }, callArgsJson(entry.def.kind, entry.def.language, args), HARD_LIMIT_FACTOR * this.limits.timeoutMs);
    if (answer === null) {
      error = new ScriptError('timeout', id, `took longer than ${this.limits.timeoutMs} ms`);
    } else if (answer.header.ok) {
      logs = answer.header.logs;
      const value = answer.header.undefined ? undefined : parsedResult(answer.payload);
      const checked = value === UNREADABLE ? { ok: false as const, message: 'result is not JSON' } : check(value);
      if (checked.ok) {
        entry.breaker.success();
        return logs ? { ok: true, value: checked.value, logs } : { ok: true, value: checked.value };
      }
      error = new ScriptError('runtime', id, checked.message);
    } else if ('fault' in answer.header) {
      // not the script's doing, but nothing says the worker is sound after it: it is replaced
      error = new ScriptError('runtime', id, `sandbox fault: ${answer.header.fault}`);
      this.worker?.kill('sandbox fault');
      this.workerLost();
    } else {
      logs = answer.header.logs;
      error = scriptError(id, answer.header.error);
      if (answer.header.broken) {
        // rebuilt from its source before its next call
        entry.loaded = false;
        this.loadInBackground();
      }
    }
    this.fail(entry, error, now);
    return logs ? { ok: false, error, disabled: false, logs } : { ok: false, error, disabled: false };
  }

  private fail(entry: Entry, error: ScriptError, now: number): void {
    entry.failures++;
    entry.lastError = { error, at: now };
    if (entry.breaker.failure(now)) this.opts.onDisabled?.(entry.def.id, error, now + entry.breaker.cooldownMs);
  }

  /** The worker, a new one when there is none or the last one died (every script is then compiled again). */
  private currentWorker(): SandboxWorker {
    if (this.worker?.alive) return this.worker;
    if (this.worker !== null) this.workerLost(); // it died
    this.worker = new (sandboxWorker().SandboxWorker)(quickjsCode().quickjsWasm(), this.opts.workerHeapMb); // code compiled by the first add
    return this.worker;
  }

  /** The worker was stopped from outside or died: nothing compiled in it survives. */
  private workerLost(): void {
    this.workerRestarts++;
    for (const e of this.entries.values()) e.loaded = false;
    this.worker = null;
    this.loadInBackground(); // starts the next worker right after this call, not within it
  }

  /**
   * One request to the worker, answered or given up after `waitMs` (the worker is then terminated: null). A
   * worker that could not start throws.
   */
  private request(header: WorkerRequest, payload: string, waitMs: number): SandboxAnswer | null {
    const worker = this.currentWorker();
    const answer = worker.request(header, payload, waitMs);
    if (answer === null) this.workerLost();
    return answer;
  }

  /** Compiles a script in the current worker (blocking); a compile error or timeout is kept as the script's. */
  private load(entry: Entry): void {
    const { id, kind, source, file, language } = entry.def;
    // loading runs the source once (and a probe): each run has max(COMPILE_TIMEOUT_MS, the limit), as in IsolatedScript
    const waitMs = HARD_LIMIT_FACTOR * (COMPILE_TIMEOUT_MS + 2 * Math.max(COMPILE_TIMEOUT_MS, this.limits.timeoutMs));
    const answer = this.request({ op: 'compile', id, kind, limits: this.limits, filename: file ?? `${id}.js`, language: language ?? 'js' }, source, waitMs);
    let error: ScriptError;
    if (answer === null) {
      error = new ScriptError('timeout', id, 'the script did not finish loading in time');
    } else if (answer.header.ok) {
      entry.loaded = true;
      return;
    } else if ('fault' in answer.header) {
      throw new Error(`script ${id}: ${answer.header.fault}`);
    } else {
      error = scriptError(id, answer.header.error);
    }
    entry.compileError = error;
    entry.lastError = { error, at: this.clock() };
  }

  /**
   * Makes sure the script is loaded in a serving worker before its call (a worker that died since the last call is
   * replaced here, not found dead by the call); the error to answer with when the sandbox itself cannot start.
   */
  private ready(entry: Entry): ScriptError | null {
    try {
      this.currentWorker().startedNow();
      if (!entry.loaded) this.load(entry);
      return null;
    } catch (err) {
      return new ScriptError('runtime', entry.def.id, `the sandbox cannot run scripts: ${(err as Error).message}`);
    }
  }

  /** Compiles, off the calls' path, every script that is not loaded (a call that comes first loads its own). */
  private loadInBackground(): void {
    if (this.loading) return;
    this.loading = (async () => {
      try {
        for (;;) {
          await new Promise((resolve) => setImmediate(resolve));
          const next = [...this.entries.values()].find((e) => !e.loaded && !e.compileError);
          if (!next) return;
          await this.currentWorker().started();
          if (!next.loaded && !next.compileError && this.entries.get(next.def.id) === next) this.load(next);
        }
      } catch {
        // the worker could not start: the next call tries again
      } finally {
        this.loading = null;
      }
    })();
  }

  /** Resolves once no script is being reloaded (tests, `script test`). */
  async settled(): Promise<void> {
    while (this.loading) await this.loading;
  }

  status(): ScriptStatus[] {
    const now = this.clock();
    return [...this.entries.values()].map((e) => {
      const until = e.breaker.disabledUntil(now);
      const state: ScriptStatus['state'] = e.compileError ? 'compile-error' : until !== null ? 'disabled' : !e.loaded ? 'reloading' : 'ok';
      return {
        id: e.def.id,
        kind: e.def.kind,
        state,
        calls: e.calls,
        failures: e.failures,
        failuresInARow: e.breaker.failuresInARow,
        lastError: e.lastError ? { kind: e.lastError.error.kind, message: e.lastError.error.detail, at: new Date(e.lastError.at).toISOString() } : null,
        disabledUntil: until === null ? null : new Date(until).toISOString(),
      };
    });
  }

  /** Heap held by each loaded script, in bytes (QuickJS's own count; for benchmarks and `script test`). */
  heapBytes(id: string): number | null {
    if (!this.entries.get(id)?.loaded) return null;
    const answer = this.request({ op: 'heap', id }, '', HARD_LIMIT_FACTOR * COMPILE_TIMEOUT_MS);
    return answer?.header.ok ? (answer.header.heapBytes ?? null) : null;
  }

  sandbox(): SandboxStatus {
    return { workerRunning: this.worker?.alive === true, workerRestarts: this.workerRestarts };
  }

  /** Drops every script and stops the worker. */
  stop(): void {
    this.entries.clear();
    this.worker?.kill('stopped');
    this.worker = null;
  }
}

const UNREADABLE = Symbol('unreadable result');
/** A result's JSON text (the prelude's own JSON.stringify made it, so it parses; a failure is still the script's). */
function parsedResult(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return UNREADABLE;
  }
}

/** A script's failure as the worker reported it. */
function scriptError(id: string, e: WorkerError): ScriptError {
  return new ScriptError(e.kind, id, e.detail, e.line, e.column);
}
