import * as fs from 'node:fs';

/**
 * The data directory holds the household's data (database, consent ledger, API token, pairing code): never
 * readable by other users, whatever the umask the agent was started with (issue #21: outside systemd a checkout
 * run by hand left it 0755 and the database 0644).
 *
 * - a directory the agent creates is 0700;
 * - an existing one loses every "other" permission; group permissions stay as set, because the installer gives
 *   the service's own group read access on purpose (`install-gateway`: 0750, UMask=0027);
 * - files are 0600, or 0640 where the directory grants its group read access (the same installer choice).
 */
export function privateDir(dir: string): number {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o007) !== 0) fs.chmodSync(dir, mode & ~0o007);
  return mode & ~0o007;
}

/** The mode a data file gets in a directory of `dirMode` (see privateDir). */
export function privateFileMode(dirMode: number): number {
  return (dirMode & 0o040) !== 0 ? 0o640 : 0o600;
}

/** Applies privateFileMode to each file that exists; a missing one is skipped. */
export function makePrivate(files: readonly string[], dirMode: number): void {
  const want = privateFileMode(dirMode);
  for (const f of files) {
    try {
      if ((fs.statSync(f).mode & 0o777) !== want) fs.chmodSync(f, want);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
