/** The levels a config may set (`log.level`); tests and benchmarks also use `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number] | 'silent';
const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: 99 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * Structured logger: one JSON object per line (journald/stdout friendly) or a short human line in a terminal.
 * Callers pass identifiers, never personal data, at info level.
 */
export function createLogger(opts: {
  level: LogLevel;
  format: 'json' | 'pretty';
  write?: (line: string) => void;
  /** also receives every line as JSON whatever `format` is (the agent's log file, read by `edge-agent logs`) */
  jsonSink?: (line: string) => void;
}): Logger {
  const write = opts.write ?? ((l: string) => process.stderr.write(l + '\n'));
  const min = RANK[opts.level];
  const emit = (level: Exclude<LogLevel, 'silent' | 'trace'>, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    const json = opts.format === 'json' || opts.jsonSink ? JSON.stringify({ time, level, msg, ...fields }) : '';
    if (opts.format === 'json') {
      write(json);
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
      write(`${time.slice(11, 19)} ${level.padEnd(5)} ${msg}${extra}`);
    }
    opts.jsonSink?.(json);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent', format: 'json', write: () => undefined });
