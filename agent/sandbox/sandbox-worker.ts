import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { ChannelEnd, WORKER_FAILED, WORKER_SERVING, frame, newSharedArea, unframe } from './sandbox-channel';
import type { WorkerAnswer, WorkerRequest } from './script-worker';

/**
 * The worker's own JavaScript heap: its code, QuickJS's glue per script (~0.1 MiB) and the texts of one call (a
 * result of `maxOutputKb` at most, a few copies); 300 scripts ran in it.
 */
export const WORKER_HEAP_MB = 64;
/** A worker that has not started serving in this long is given up (loading QuickJS's code, not running scripts). */
const START_TIMEOUT_MS = 30_000;

/**
 * When this module runs as TypeScript source (the tests, through @swc/jest), the worker loads the same sources
 * through swc; built, it loads the compiled JavaScript beside this file.
 */
const TS_SOURCE_LOADER = `
const swc = require(workerData.swc);
const fs = require('node:fs');
require.extensions['.ts'] = (m, filename) => {
  const out = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' }, sourceMaps: 'inline',
  });
  m._compile(out.code, filename);
};
`;

function bootstrapSource(entry: string): string {
  const loader = entry.endsWith('.ts') ? TS_SOURCE_LOADER : '';
  // A failure to load is reported through the channel, where the agent waits for the worker to start.
  return `
const { workerData } = require('node:worker_threads');
try {
  ${loader}
  require(${JSON.stringify(entry)});
} catch (err) {
  const control = new Int32Array(workerData.scriptWorker.shared, 0, 16);
  workerData.scriptWorker.port.postMessage(String(err && err.stack || err));
  control[3] = -1;
  Atomics.store(control, 4, ${WORKER_FAILED});
  Atomics.notify(control, 4);
}
`;
}

export type SandboxAnswer = { header: WorkerAnswer; payload: string };

/**
 * The agent's side of one script worker (script-worker.ts): starts it, sends it requests and blocks until the
 * answer or a deadline; past the deadline the worker is terminated (the call's WebAssembly stops wherever it is)
 * and this instance is dead: the owner starts a new one. `terminate()` is not awaited: V8 stops the worker's
 * JavaScript and WebAssembly at once, and its memory goes with the thread.
 */
export class SandboxWorker {
  private readonly worker: Worker;
  private readonly channel: ChannelEnd;
  private state: 'starting' | 'serving' | 'dead' = 'starting';
  /** why it died (a start failure, an exit) */
  deathReason = '';
  private readonly exited: Promise<number>;

  /**
   * `wasm`: QuickJS's compiled code (quickjsWasmCompiled), shared with the worker rather than compiled there.
   * `heapMb`: the worker's own V8 heap (its scripts' heaps are WebAssembly memories outside it): past it the worker
   * dies (Node ends the thread, not the process) and is replaced like a stopped one.
   */
  constructor(wasm: WebAssembly.Module, heapMb = WORKER_HEAP_MB) {
    const shared = newSharedArea();
    const { port1, port2 } = new MessageChannel();
    this.channel = new ChannelEnd(shared, port1);
    const ext = path.extname(__filename);
    const entry = path.join(__dirname, `script-worker${ext}`);
    this.worker = new Worker(bootstrapSource(entry), {
      eval: true,
      workerData: { scriptWorker: { shared, port: port2, wasm }, ...(ext === '.ts' ? { swc: require.resolve('@swc/core') } : {}) },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 4, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    // Referenced while it starts (an await on its start must keep the process alive), then not: an idle worker
    // never keeps the agent or a CLI command from exiting.
    port1.unref();
    this.worker.on('error', (err) => this.died(`worker failed: ${err.message}`));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.died(`worker exited (code ${code})`);
        resolve(WORKER_FAILED);
      }),
    );
  }

  get alive(): boolean {
    return this.state !== 'dead';
  }

  private died(reason: string): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.deathReason = reason;
  }

  /** Resolves once the worker serves; throws when it could not start. */
  async started(): Promise<void> {
    if (this.state === 'starting') this.afterStart(await Promise.race([this.channel.started(START_TIMEOUT_MS), this.exited]));
    if (this.state !== 'serving') throw new Error(`the script worker did not start: ${this.deathReason}`);
  }

  /** The same, blocking the thread (a call that arrives while the worker is still starting). */
  startedNow(): void {
    if (this.state === 'starting') this.afterStart(this.channel.awaitStart(START_TIMEOUT_MS));
    if (this.state !== 'serving') throw new Error(`the script worker did not start: ${this.deathReason}`);
  }

  private afterStart(state: number): void {
    this.worker.unref();
    if (this.state !== 'starting') return;
    if (state === WORKER_SERVING) {
      this.state = 'serving';
      return;
    }
    const reason = state === WORKER_FAILED ? this.channel.startFailure().split('\n')[0] : `not serving after ${START_TIMEOUT_MS} ms`;
    this.kill(reason);
  }

  /**
   * Sends one request and blocks until its answer, or kills the worker once it has worked on the request for
   * `waitMs` (or not taken it `waitMs` after it was sent) and returns null. Throws when the worker is not serving.
   */
  request(header: WorkerRequest, payload: string, waitMs: number): SandboxAnswer | null {
    this.startedNow();
    const seq = this.channel.request(frame(header, payload));
    const answer = this.channel.awaitAnswer(seq, waitMs);
    if (answer === null) {
      this.kill('a request overstayed its deadline');
      return null;
    }
    return unframe<WorkerAnswer>(answer);
  }

  kill(reason: string): void {
    this.died(reason);
    this.worker.unref();
    void this.worker.terminate();
  }
}
