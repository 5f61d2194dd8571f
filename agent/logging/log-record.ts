import { LOG_LEVELS } from '../logger';

/** The levels a written line can have (`trace` is never written to the log file or journald). */
const LEVELS = LOG_LEVELS.filter((l): l is Exclude<(typeof LOG_LEVELS)[number], 'trace'> => l !== 'trace');

/** One line of the agent's structured log, as `edge-agent logs` reads it back. */
export interface LogRecord {
  time: string;
  level: (typeof LEVELS)[number];
  msg: string;
  fields: Record<string, unknown>;
}

const RANK = (level: LogRecord['level']): number => LEVELS.indexOf(level);

/** A JSON log line back into a record; null for anything else (a stack trace, a line from another program). */
export function parseLogLine(line: string): LogRecord | null {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const { time, level, msg, ...fields } = o as Record<string, unknown>;
  if (typeof time !== 'string' || typeof msg !== 'string' || !(LEVELS as readonly unknown[]).includes(level)) return null;
  return { time, level: level as LogRecord['level'], msg, fields };
}

export interface LogFilter {
  /** this level and above */
  level?: LogRecord['level'];
  /** records about this device (a `device` field, or `devices` containing it) */
  device?: string;
  /** case-insensitive text anywhere in the message or the fields */
  grep?: string;
  /** at or after this time (ms) */
  since?: number;
}

export function isLogLevel(s: string): s is LogRecord['level'] {
  return (LEVELS as readonly string[]).includes(s);
}

export function matchesFilter(r: LogRecord, f: LogFilter): boolean {
  if (f.level && RANK(r.level) < RANK(f.level)) return false;
  if (f.since !== undefined && Date.parse(r.time) < f.since) return false;
  if (f.device !== undefined) {
    const d = r.fields.device ?? r.fields.id;
    const ds = r.fields.devices;
    if (d !== f.device && !(Array.isArray(ds) && ds.includes(f.device))) return false;
  }
  if (f.grep !== undefined) {
    const hay = `${r.msg} ${JSON.stringify(r.fields)}`.toLowerCase();
    if (!hay.includes(f.grep.toLowerCase())) return false;
  }
  return true;
}

const COLOUR: Record<LogRecord['level'], string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/** `08:13:05 warn  storage.maxBytes reached … {"raw_reading":120}` — the terminal form of a record. */
export function formatLogRecord(r: LogRecord, colour: boolean): string {
  const extra = Object.keys(r.fields).length > 0 ? ' ' + JSON.stringify(r.fields) : '';
  const level = r.level.padEnd(5);
  return `${r.time.replace('T', ' ').slice(0, 19)} ${colour ? `${COLOUR[r.level]}${level}\x1b[0m` : level} ${r.msg}${extra}`;
}
