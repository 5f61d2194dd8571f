import * as fs from 'node:fs';
import * as path from 'node:path';

/** fsync a directory so a rename or a new file in it survives a power cut. */
export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces `file` with `data` atomically and durably: temp file, fsync, rename, fsync of the directory (left to
 * the caller with `syncDirectory: false`, when it renames more into the same directory and syncs it once).
 */
export function writeFileDurably(
  file: string,
  data: string | Uint8Array,
  opts: { syncDirectory?: boolean } = {},
): void {
  fs.closeSync(replaceDurably(file, data, opts.syncDirectory !== false));
}

/**
 * writeFileDurably that returns the new file still open (the caller closes it): what DurableJsonFile holds to
 * know its own write from any later one.
 */
export function writeFileDurablyKeptOpen(file: string, data: string | Uint8Array): number {
  return replaceDurably(file, data, true);
}

function replaceDurably(file: string, data: string | Uint8Array, syncDir: boolean): number {
  // one temp name per process: the agent and a CLI command replacing the same file never write into one temp file
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
    fs.renameSync(tmp, file);
    if (syncDir) syncDirectory(path.dirname(file));
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Removes the temp files of writers that died before their rename (`<file>.<pid>[.bg].tmp` of a process that is
 * gone): a crash mid-write of a rollback image would otherwise keep its size out of the storage budget for good.
 */
export function removeOrphanTempFiles(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /\.(\d+)(?:\.bg)?\.tmp$/.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a JSON file written by writeFileDurably; null when it does not exist. */
export function readJsonFile<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Bytes of the regular files under `dir` (0 when it does not exist). */
export function directoryBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += directoryBytes(p);
    else if (e.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/**
 * writeFileDurably off the event loop, for a file rewritten while other work goes on: the temp file is written
 * and fsynced asynchronously, then `stillWanted()` is asked synchronously right before the rename, so a caller
 * that moved on (the download finished or was replaced meanwhile) never has a stale copy renamed into place.
 */
export async function writeFileDurablyInBackground(
  file: string,
  data: string,
  stillWanted: () => boolean,
): Promise<boolean> {
  const tmp = `${file}.${process.pid}.bg.tmp`;
  const h = await fs.promises.open(tmp, 'w', 0o600);
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
  if (!stillWanted()) {
    fs.rmSync(tmp, { force: true });
    return false;
  }
  fs.renameSync(tmp, file);
  await syncDirectoryInBackground(path.dirname(file));
  return true;
}

/** syncDirectory in libuv's thread pool: a contended journal commit (up to tens of ms) does not stop the event loop. */
export async function syncDirectoryInBackground(dir: string): Promise<void> {
  const h = await fs.promises.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
