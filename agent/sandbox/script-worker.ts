import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { IsolatedScript, type JsonCallOutcome } from './isolated-script';
import { useQuickjsWasm } from './quickjs-code';
import { ChannelEnd, WORKER_FAILED, WORKER_SERVING, frame, unframe } from './sandbox-channel';
import { ScriptError, type ScriptErrorKind } from './script-error';
import type { ScriptKind } from './script-kind';
import type { ScriptLanguage } from './script-language';
import type { ScriptLimits } from './script-limits';

/**
 * The script worker: the thread that holds every QuickJS instance of one ScriptHost and runs their calls, so
 * that the agent's thread can stop a call from outside (Worker.terminate) when it overstays, whatever the script
 * is doing inside QuickJS (sandbox-worker.ts). It serves one request at a time, blocked in Atomics.wait between
 * them.
 */

export type WorkerRequest =
  | { op: 'compile'; id: string; kind: ScriptKind; limits: ScriptLimits; filename: string; language: ScriptLanguage } // payload: the source
  | { op: 'call'; id: string; logs: boolean } // payload: the arguments as JSON
  | { op: 'heap'; id: string }
  | { op: 'drop'; id: string };

export interface WorkerError {
  kind: ScriptErrorKind;
  detail: string;
  line?: number;
  column?: number;
}

/** payload: a call's result as JSON (empty when `undefined` says so) */
export type WorkerAnswer =
  | { ok: true; undefined?: true; logs?: string[]; heapBytes?: number | null }
  | { ok: false; error: WorkerError; broken?: true; logs?: string[] }
  /** not a script's failure: a fault of the sandbox itself, raised as an Error in the agent */
  | { ok: false; fault: string };

/** Longest error text sent back: a script choosing its own error message must not choose the answer's size. */
const MAX_DETAIL = 1000;
const bounded = (s: string): string => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL - 3)}...` : s);

function scriptErrorAnswer(err: ScriptError, extra: { broken?: boolean; logs?: string[] } = {}): string {
  const error: WorkerError = { kind: err.kind, detail: bounded(err.detail) };
  if (err.line !== undefined) error.line = err.line;
  if (err.column !== undefined) error.column = err.column;
  return frame({ ok: false, error, ...(extra.broken ? { broken: true } : {}), ...(extra.logs ? { logs: extra.logs } : {}) });
}

class ScriptWorker {
  private readonly scripts = new Map<string, IsolatedScript>();

  constructor(private readonly channel: ChannelEnd) {}

  async serve(): Promise<never> {
    this.channel.announce(WORKER_SERVING);
    for (;;) {
      const request = this.channel.nextRequest();
      let answer: string;
      try {
        const handled = this.handle(request);
        answer = typeof handled === 'string' ? handled : await handled;
      } catch (err) {
        answer = frame({ ok: false, fault: bounded(err instanceof Error ? err.message : String(err)) });
      }
      this.channel.answer(answer);
    }
  }

  private handle(text: string): string | Promise<string> {
    const { header: req, payload } = unframe<WorkerRequest>(text);
    switch (req.op) {
      case 'call':
        return this.call(req.id, payload, req.logs);
      case 'compile':
        return this.compile(req, payload);
      case 'heap':
        return frame({ ok: true, heapBytes: this.scripts.get(req.id)?.heapBytes() ?? null });
      case 'drop':
        this.scripts.get(req.id)?.dispose();
        this.scripts.delete(req.id);
        return frame({ ok: true });
    }
  }

  private call(id: string, argsJson: string, logs: boolean): string {
    const script = this.scripts.get(id);
    if (!script) return scriptErrorAnswer(new ScriptError('runtime', id, 'script is not loaded'), { broken: true });
    let out: JsonCallOutcome;
    try {
      out = script.callJson(argsJson, { logs });
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      if (script.broken) {
        // rebuilt from its source by the agent's next compile request
        script.dispose();
        this.scripts.delete(id);
      }
      return scriptErrorAnswer(err, { broken: script.broken });
    }
    const header: WorkerAnswer = out.json === undefined ? { ok: true, undefined: true } : { ok: true };
    if (out.logs) header.logs = out.logs;
    return frame(header, out.json ?? '');
  }

  private async compile(req: Extract<WorkerRequest, { op: 'compile' }>, source: string): Promise<string> {
    this.scripts.get(req.id)?.dispose();
    this.scripts.delete(req.id);
    try {
      this.scripts.set(req.id, await IsolatedScript.compile(req.id, req.kind, source, req.limits, req.filename, req.language));
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      return scriptErrorAnswer(err);
    }
    return frame({ ok: true });
  }
}

/** What the agent passes to a new worker. */
export interface ScriptWorkerData {
  shared: SharedArrayBuffer;
  port: MessagePort;
  /** QuickJS's code, compiled by the agent's thread */
  wasm: WebAssembly.Module;
}

if (!isMainThread && (workerData as { scriptWorker?: ScriptWorkerData } | null)?.scriptWorker) {
  const data = (workerData as { scriptWorker: ScriptWorkerData }).scriptWorker;
  useQuickjsWasm(data.wasm);
  const channel = new ChannelEnd(data.shared, data.port);
  new ScriptWorker(channel).serve().catch((err: unknown) => channel.announce(WORKER_FAILED, String(err)));
}
