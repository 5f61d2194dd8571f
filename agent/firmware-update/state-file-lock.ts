import * as fs from 'node:fs';
import * as path from 'node:path';
import { processAlive } from './durable-file';

export interface StateFileLockOptions {
  /** how long to wait for another process's hold before giving up with a clear error */
  timeoutMs?: number;
  /** a lock file older than this is left over from a crash or a power cut (holds last milliseconds) */
  staleMs?: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const pause = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms);

/** Thrown when another process holds the lock for longer than the wait allows. */
export class StateLockTimeout extends Error {}

/**
 * Mutual exclusion between the processes that read-modify-write the firmware state (the agent, and
 * `edge-agent firmware defer|retry|update` run beside it): a file created exclusively (`wx`) holding the pid.
 * Without it, the agent saving a rollout it loaded before a flash overwrote a `firmware retry` of another device
 * made meanwhile, and two `defer`s at once kept only one. Holds are synchronous and short (a read and a durable
 * write), so waiting is a synchronous poll. Reentrant within a process: every holder of the same path in one
 * process shares one count. A lock whose process is gone, or older than `staleMs` (a power cut: the pid may be
 * reused after the reboot), is taken over.
 */
export class StateFileLock {
  private static readonly depth = new Map<string, number>();
  readonly file: string;
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(file: string, opts: StateFileLockOptions = {}) {
    this.file = path.resolve(file);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.staleMs = opts.staleMs ?? 30_000;
  }

  hold<T>(fn: () => T): T {
    const depth = StateFileLock.depth.get(this.file) ?? 0;
    if (depth === 0) this.acquire();
    StateFileLock.depth.set(this.file, depth + 1);
    try {
      return fn();
    } finally {
      StateFileLock.depth.set(this.file, depth);
      if (depth === 0) {
        StateFileLock.depth.delete(this.file);
        fs.rmSync(this.file, { force: true });
      }
    }
  }

  private acquire(): void {
    const deadline = Date.now() + this.timeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        const fd = fs.openSync(this.file, 'wx', 0o600);
        try {
          fs.writeSync(fd, `${process.pid}\n`);
        } finally {
          fs.closeSync(fd);
        }
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = this.holder();
      if (
        holder &&
        (holder.pid === null || !processAlive(holder.pid) || Date.now() - holder.mtimeMs > this.staleMs)
      ) {
        // Taken over only if it is still the file judged stale (another waiter may have replaced it already).
        const now = fs.statSync(this.file, { throwIfNoEntry: false });
        if (now && now.ino === holder.ino) fs.rmSync(this.file, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new StateLockTimeout(
          `the firmware state is locked by process ${holder?.pid ?? '?'} (${this.file}) for over ` +
            `${Math.round(this.timeoutMs / 1000)} s; try again, or remove the file if that process is not edge-agent`,
        );
      pause(wait);
    }
  }

  /** The lock's holder; pid null for a file without one that is old enough to be a crash's leftover. */
  private holder(): { pid: number | null; mtimeMs: number; ino: number } | null {
    try {
      const st = fs.statSync(this.file);
      const pid = Number.parseInt(fs.readFileSync(this.file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0) return { pid, mtimeMs: st.mtimeMs, ino: st.ino };
      // caught between its creation and its pid being written: not stale unless it stays so
      return Date.now() - st.mtimeMs > this.staleMs ? { pid: null, mtimeMs: st.mtimeMs, ino: st.ino } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}
