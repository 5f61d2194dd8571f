import type { Logger } from '../logger';

/**
 * The last resort of `edge-agent run` (issue #21, docs/security.md "When something is thrown anyway"): an
 * exception no code caught, or a promise rejection nobody handled. Every input path catches its own errors
 * (downlink, HTTP, device frames), so reaching here is a bug; the question is whether the agent may go on.
 *
 * - A rejected promise: logged, counted, the agent keeps serving. The work that promise stood for was abandoned;
 *   every state change it could have made is a SQLite transaction (committed whole or rolled back).
 * - A thrown exception: logged, counted, the agent keeps serving — unless the store failed (an SQLite error:
 *   the database may be closed, full or corrupt, and every later write would fail the same way) or exceptions
 *   keep coming (more than `maxPerMinute` in a minute: something is stuck in a loop). Then the process exits
 *   with 70 (EX_SOFTWARE) and systemd's Restart=on-failure starts it again from the durable state.
 */
export interface Faults {
  uncaughtExceptions: number;
  unhandledRejections: number;
  last: string | null;
  lastAt: number | null;
}

/** Process-wide, like the handlers themselves; read by the status document and /metrics. */
export const faults: Faults = { uncaughtExceptions: 0, unhandledRejections: 0, last: null, lastAt: null };

export const EXIT_SOFTWARE = 70;

export type Verdict = 'continue' | 'exit';

const describe = (err: unknown): string => {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 500);
  try {
    return String(err).slice(0, 500);
  } catch {
    return 'an unprintable value';
  }
};

/** Why an uncaught exception must end the process, or null when the agent may go on serving. */
export function mustExit(err: unknown, recentCount: number, maxPerMinute: number): string | null {
  const e = err as { name?: unknown; code?: unknown } | null;
  if (e && (e.name === 'SqliteError' || (typeof e.code === 'string' && e.code.startsWith('SQLITE_')))) return 'the store failed';
  if (recentCount > maxPerMinute) return `more than ${maxPerMinute} uncaught errors in a minute`;
  return null;
}

export interface LastResortOptions {
  logger: Logger;
  /** how the process ends (tests replace it) */
  exit?: (code: number) => void;
  clock?: () => number;
  maxPerMinute?: number;
}

/** Installs both handlers; returns the uninstaller. */
export function installLastResort(opts: LastResortOptions): () => void {
  const clock = opts.clock ?? Date.now;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const max = opts.maxPerMinute ?? 10;
  const recent: number[] = [];
  const record = (what: string, err: unknown): void => {
    faults.last = `${what}: ${describe(err)}`;
    faults.lastAt = clock();
  };
  const onException = (err: unknown): void => {
    faults.uncaughtExceptions++;
    record('uncaught exception', err);
    const now = clock();
    recent.push(now);
    while (recent.length > 0 && recent[0]! <= now - 60_000) recent.shift();
    const why = mustExit(err, recent.length, max);
    const stack = err instanceof Error ? (err.stack ?? '').split('\n').slice(0, 8).join('\n') : undefined;
    if (why === null) {
      opts.logger.error('uncaught exception: the agent keeps serving (a bug: please report it)', { error: describe(err), stack });
      return;
    }
    opts.logger.error(`uncaught exception: exiting for the service manager to restart the agent (${why})`, { error: describe(err), stack });
    exit(EXIT_SOFTWARE);
  };
  const onRejection = (reason: unknown): void => {
    faults.unhandledRejections++;
    record('unhandled rejection', reason);
    opts.logger.error('unhandled promise rejection: the agent keeps serving (a bug: please report it)', { error: describe(reason) });
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
