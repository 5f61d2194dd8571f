import { IsolatedScript } from './isolated-script';
import { DEFAULT_LIMITS, type ScriptLimits } from './script-limits';
import { ScriptBreaker } from './script-breaker';
import { ScriptError, type ScriptErrorKind } from './script-error';
import type { Checked, ScriptKind } from './script-kind';
import type { ScriptLanguage } from './script-language';

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
  script: IsolatedScript | null;
  compileError: ScriptError | null;
  breaker: ScriptBreaker;
  calls: number;
  failures: number;
  lastError: { error: ScriptError; at: number } | null;
  reloading: boolean;
}

export interface ScriptHostOptions {
  limits?: Partial<ScriptLimits>;
  clock?: () => number;
  /** told when a script gets disabled (3 failures in a row) — the agent logs it */
  onDisabled?: (id: string, error: ScriptError, until: number) => void;
}

/**
 * The agent's script executor (the js-executor role, DESIGN §8): compiles each configured script once into its
 * own isolated QuickJS instance, runs it under the limits, classifies failures, and disables a script that
 * fails three times in a row for a minute. One bad script never affects another: they share no engine state.
 */
export class ScriptHost {
  readonly limits: ScriptLimits;
  private readonly entries = new Map<string, Entry>();
  private readonly clock: () => number;

  constructor(private readonly opts: ScriptHostOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.clock = opts.clock ?? Date.now;
  }

  /** Compiles and registers a script (replacing one with the same id); returns its compile error, if any. */
  async add(def: ScriptDefinition): Promise<ScriptError | null> {
    this.entries.get(def.id)?.script?.dispose();
    const entry: Entry = { def, script: null, compileError: null, breaker: new ScriptBreaker(), calls: 0, failures: 0, lastError: null, reloading: false };
    this.entries.set(def.id, entry);
    try {
      entry.script = await IsolatedScript.compile(def.id, def.kind, def.source, this.limits, def.file ?? `${def.id}.js`, def.language);
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      entry.compileError = err;
      entry.lastError = { error: err, at: this.clock() };
    }
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
    if (entry.reloading || entry.script === null) {
      return { ok: false, error: new ScriptError('memory', id, 'script is being reloaded after exhausting its memory'), disabled: false };
    }
    entry.calls++;
    let logs: string[] | undefined;
    let error: ScriptError;
    try {
      const out = entry.script.call(args, opts);
      logs = out.logs;
      const checked = check(out.value);
      if (checked.ok) {
        entry.breaker.success();
        return logs ? { ok: true, value: checked.value, logs } : { ok: true, value: checked.value };
      }
      error = new ScriptError('runtime', id, checked.message);
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      error = err;
    }
    this.fail(entry, error, now);
    return logs ? { ok: false, error, disabled: false, logs } : { ok: false, error, disabled: false };
  }

  private fail(entry: Entry, error: ScriptError, now: number): void {
    entry.failures++;
    entry.lastError = { error, at: now };
    if (entry.breaker.failure(now)) this.opts.onDisabled?.(entry.def.id, error, now + entry.breaker.cooldownMs);
    if (entry.script?.broken && !entry.reloading) void this.reload(entry);
  }

  /** A script that exhausted its memory (or whose instance faulted) starts again from a fresh instance. */
  private async reload(entry: Entry): Promise<void> {
    entry.reloading = true;
    const old = entry.script;
    entry.script = null;
    old?.dispose();
    try {
      const fresh = await IsolatedScript.compile(entry.def.id, entry.def.kind, entry.def.source, this.limits, entry.def.file ?? `${entry.def.id}.js`, entry.def.language);
      if (this.entries.get(entry.def.id) === entry) entry.script = fresh;
      else fresh.dispose();
    } catch (err) {
      if (err instanceof ScriptError) entry.compileError = err;
    } finally {
      entry.reloading = false;
    }
  }

  /** Resolves once no script is being reloaded (tests, `script test`). */
  async settled(): Promise<void> {
    while ([...this.entries.values()].some((e) => e.reloading)) await new Promise((r) => setTimeout(r, 5));
  }

  status(): ScriptStatus[] {
    const now = this.clock();
    return [...this.entries.values()].map((e) => {
      const until = e.breaker.disabledUntil(now);
      const state: ScriptStatus['state'] = e.compileError ? 'compile-error' : until !== null ? 'disabled' : e.reloading ? 'reloading' : 'ok';
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
    return this.entries.get(id)?.script?.heapBytes() ?? null;
  }

  stop(): void {
    for (const e of this.entries.values()) e.script?.dispose();
    this.entries.clear();
  }
}
