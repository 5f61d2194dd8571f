import * as fs from 'node:fs';
import { writeFileDurablyKeptOpen } from './durable-file';

/** The version of the file this object last wrote or read, with that file held open. */
interface Held<T> {
  fd: number;
  stat: fs.BigIntStats;
  text: string;
  value: T;
}

// A held file is closed when its DurableJsonFile is garbage (the CLI and tests make many and drop them).
const closeWhenDropped = new FinalizationRegistry<number>((fd) => fs.close(fd, () => undefined));

/**
 * A JSON file only ever replaced whole by writeFileDurably (temp file, fsync, rename), whose current value is
 * kept in memory, so a status document shows it on every call without reading and parsing the file.
 *
 * Memory alone would be wrong: the agent is not the only writer. `edge-agent firmware defer|retry|import|update`
 * run in their own process against the same files, also while the agent runs (the household's defer must show in
 * the agent's next status), and routing them all through the agent would not cover `firmware update`, which
 * flashes from the CLI. So each read costs one stat of the path instead of an open, read and parse. Every write
 * renames a new file into place, so a change shows as another inode; the file last seen is kept open, so its
 * inode number cannot be handed to a newer file while it is compared against (size and mtime are compared too,
 * for a hand edit in place). Writes from this object hold the file they wrote (opened before the rename), so
 * another writer's later rename is never mistaken for ours.
 */
export class DurableJsonFile<T> {
  private held: Held<T> | null = null;

  constructor(readonly file: string) {}

  /**
   * The current value, shared with other callers: read it, never change it (read() gives a copy to change).
   * Null when the file does not exist.
   */
  peek(): T | null {
    return this.current()?.value ?? null;
  }

  /** The current value as a copy the caller owns. */
  read(): T | null {
    const c = this.current();
    return c ? (JSON.parse(c.text) as T) : null;
  }

  /** Replaces the file durably (as writeFileDurably) and keeps what was written as the current value. */
  write(value: T, text: string = JSON.stringify(value)): void {
    const fd = writeFileDurablyKeptOpen(this.file, text);
    this.hold({ fd, stat: fs.fstatSync(fd, { bigint: true }), text, value: JSON.parse(text) as T });
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
    this.hold(null);
  }

  private current(): Held<T> | null {
    const st = fs.statSync(this.file, { bigint: true, throwIfNoEntry: false });
    if (!st) return this.hold(null);
    const h = this.held;
    if (h && st.ino === h.stat.ino && st.dev === h.stat.dev && st.size === h.stat.size && st.mtimeNs === h.stat.mtimeNs)
      return h;
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.hold(null); // removed since the stat
      throw err;
    }
    try {
      // stat and text from the same open file: a replacement meanwhile is seen as a new inode next time
      const stat = fs.fstatSync(fd, { bigint: true });
      const text = fs.readFileSync(fd, 'utf8');
      return this.hold({ fd, stat, text, value: JSON.parse(text) as T });
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  private hold(next: Held<T> | null): Held<T> | null {
    const prev = this.held;
    if (prev) {
      closeWhenDropped.unregister(prev);
      fs.closeSync(prev.fd);
    }
    if (next) closeWhenDropped.register(this, next.fd, next);
    this.held = next;
    return next;
  }
}
