import type { Worker } from 'node:worker_threads';
import type { Db } from './database';

/**
 * The worker: its own connection to the same file, a PASSIVE checkpoint every `everyMs` (never blocks the
 * agent's writer), with synchronous=FULL so it fsyncs the WAL before and the database after copying, as SQLite's
 * automatic checkpoint does.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
let failures = 0;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (err) {
    if (++failures === 3) parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  process.exit(0);
});
`;

/**
 * Checkpoints the WAL from a worker thread every `everyMs`, so that the agent's own automatic checkpoint (inside
 * whichever commit makes the WAL reach 1,000 pages: megabytes written and two fsyncs, 5–60 ms on a busy disk,
 * far more on an SD card, while every frame arriving waits) normally never has anything to do: the WAL is copied
 * back off the loop and starts over between commits (issue #11: arrival→decision p99 at 1k/s from 0.7–2.5 ms to
 * ~0.3 ms). The automatic checkpoint stays on as the bound: under sustained heavy writes, when the WAL never gets
 * fully copied between commits, it runs as before, so the WAL (and disk use) is never larger than without the
 * worker. If the worker fails, it is stopped and the automatic checkpoint does all the work again.
 */
export class WalCheckpointer {
  private worker: Worker | null = null;

  constructor(
    private readonly db: Db,
    private readonly everyMs = 100,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  get running(): boolean {
    return this.worker !== null;
  }

  start(): void {
    if (this.worker !== null) return;
    if (this.db.memory || String(this.db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal')
      return;
    try {
      // worker_threads loads only when the checkpointer starts (a busy gateway), not with every start (issue #24)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const worker = new (require('node:worker_threads') as typeof import('node:worker_threads')).Worker(WORKER_SOURCE, {
        eval: true,
        // It only runs one pragma: a small heap keeps its RSS cost a few MiB.
        resourceLimits: {
          maxYoungGenerationSizeMb: 1,
          maxOldGenerationSizeMb: 8,
          codeRangeSizeMb: 2,
          stackSizeMb: 1,
        },
        workerData: {
          file: this.db.name,
          everyMs: this.everyMs,
          sqliteModule: require.resolve('better-sqlite3'),
        },
      });
      worker.on('message', (m: { error?: string }) => {
        if (m.error) this.fallBack(`WAL checkpoint worker: ${m.error}`);
      });
      worker.on('error', (err) => this.fallBack(`WAL checkpoint worker failed: ${err.message}`));
      worker.unref();
      this.worker = worker;
    } catch (err) {
      this.fallBack(
        `WAL checkpoint worker did not start: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private fallBack(message: string): void {
    this.onError(message);
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
  }

  /** Stops the worker (its connection closed) before the agent's connection closes and checkpoints the rest. */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void w.terminate().then(() => resolve()), 2000);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      w.postMessage('stop');
    });
  }
}
