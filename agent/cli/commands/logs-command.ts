import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseDuration } from '../../config';
import { formatLogRecord, isLogLevel, matchesFilter, parseLogLine, type LogFilter } from '../../logging/log-record';
import { logFileOf } from '../../logging/rotating-log-file';
import { CliError } from '../cli-error';
import { printJson, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';

export interface LogsOptions {
  config?: string;
  file?: string;
  follow?: boolean;
  level?: string;
  device?: string;
  grep?: string;
  since?: string;
  lines?: string;
  json?: boolean;
}

const UNIT = 'edge-agent.service';

function filterOf(o: LogsOptions): LogFilter {
  const f: LogFilter = {};
  if (o.level !== undefined) {
    if (!isLogLevel(o.level)) throw new CliError(`--level ${o.level}: one of debug, info, warn, error`, 2);
    f.level = o.level;
  }
  if (o.since !== undefined) {
    const ago = parseDuration(o.since);
    const at = ago !== null ? Date.now() - ago : Date.parse(o.since);
    if (Number.isNaN(at)) throw new CliError(`--since ${o.since}: a duration like 10m, 2h, 1d, or a date like 2026-12-01T08:00`, 2);
    f.since = at;
  }
  if (o.device !== undefined) f.device = o.device;
  if (o.grep !== undefined) f.grep = o.grep;
  return f;
}

/** The service's journal, when the agent runs as the systemd unit on this machine. */
function journalAvailable(): boolean {
  const unit = spawnSync('systemctl', ['show', UNIT, '-p', 'LoadState', '--value'], { encoding: 'utf8', timeout: 3000 });
  return unit.status === 0 && unit.stdout.trim() === 'loaded' && spawnSync('journalctl', ['--version'], { timeout: 3000 }).status === 0;
}

/**
 * `edge-agent logs`: the agent's structured log with filters — from journald when it runs as the service, else
 * from its log file — pretty on a terminal, JSON lines with --json. `--follow` keeps reading (rotation included).
 */
export async function logsCommand(o: LogsOptions, io: CliOutput): Promise<number> {
  const filter = filterOf(o);
  const lines = Math.max(1, Number(o.lines ?? 50) || 50);
  const unfiltered = Object.keys(filter).length === 0;
  const print = (line: string): void => {
    const r = parseLogLine(line);
    if (r === null) {
      if (unfiltered && line.trim() !== '' && !o.json) io.out(line);
      return;
    }
    if (!matchesFilter(r, filter)) return;
    if (o.json) printJson(io, { time: r.time, level: r.level, msg: r.msg, ...r.fields });
    else io.out(formatLogRecord(r, io.isTTY));
  };

  let file = o.file;
  if (file === undefined) {
    if (journalAvailable()) return followJournal(o, lines, print);
    const { config } = loadConfigOrExit(o.config);
    file = logFileOf(config, {}) ?? undefined;
    if (file === undefined) throw new CliError('this config writes no log file (log.file: false) and the service journal is not available', 1);
  }
  if (!fs.existsSync(file)) throw new CliError(`no log at ${file} yet — is the agent running with this config? (\`edge-agent doctor\`)`, 1);

  // The last N matching records, from the rotated file too when the current one has fewer.
  const all = [`${file}.1`, file].filter((f) => fs.existsSync(f)).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'));
  const matching = all.filter((l) => {
    const r = parseLogLine(l);
    return r === null ? unfiltered && l.trim() !== '' : matchesFilter(r, filter);
  });
  for (const l of matching.slice(-lines)) print(l);
  if (!o.follow) return 0;
  return followFile(file, print);
}

function followFile(file: string, print: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    let pos = fs.statSync(file).size;
    let ino = fs.statSync(file).ino;
    let partial = '';
    const timer = setInterval(() => {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        return; // between a rotation's rename and the next write
      }
      if (st.ino !== ino || st.size < pos) {
        ino = st.ino;
        pos = 0; // rotated: the new file from its start
      }
      if (st.size === pos) return;
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(st.size - pos);
        fs.readSync(fd, buf, 0, buf.length, pos);
        pos = st.size;
        const text = partial + buf.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) print(l);
      } finally {
        fs.closeSync(fd);
      }
    }, 250);
    process.once('SIGINT', () => {
      clearInterval(timer);
      resolve(0);
    });
    process.once('SIGTERM', () => {
      clearInterval(timer);
      resolve(0);
    });
  });
}

function followJournal(o: LogsOptions, lines: number, print: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const args = ['-u', UNIT, '-o', 'cat', '--no-pager', '-n', String(o.follow ? lines : Math.max(lines * 20, 1000))];
    if (o.follow) args.push('-f');
    if (o.since !== undefined) args.push('--since', new Date(filterOf(o).since ?? 0).toISOString().replace('T', ' ').slice(0, 19));
    const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let partial = '';
    const shown: string[] = [];
    child.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        if (o.follow) print(l);
        else shown.push(l);
      }
    });
    child.on('close', (code) => {
      for (const l of shown.slice(-lines * 20)) print(l);
      resolve(code === 0 ? 0 : 1);
    });
    process.once('SIGINT', () => child.kill('SIGTERM'));
  });
}
