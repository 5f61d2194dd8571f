import * as fs from 'node:fs';
import * as path from 'node:path';
import { privateFileMode } from '../store/private-files';

/**
 * The agent's own JSON-lines log when journald does not take it (a checkout run by hand, a container): one file,
 * rotated to `<file>.1` at `maxBytes`, so an SD card never fills with logs. A write that fails (full disk, the
 * directory gone) is counted and skipped — logging must never stop the agent.
 */
export class RotatingLogFile {
  private size: number;
  /** 0600, or 0640 where the directory grants its group read access (agent/store/private-files.ts) */
  private readonly mode: number;
  failures = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes = 5 * 1024 * 1024,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 }); // usually the data directory: private
    this.mode = privateFileMode(fs.statSync(path.dirname(file)).mode);
    this.size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    try {
      if (this.size + bytes > this.maxBytes && this.size > 0) {
        fs.renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      fs.appendFileSync(this.file, line + '\n', { mode: this.mode });
      this.size += bytes;
    } catch {
      this.failures++;
    }
  }
}

/**
 * Where the agent writes its log file for this config: `log.file`, none when it is false, and by default
 * `<dataDir>/agent.log` — except under journald (JOURNAL_STREAM set by systemd), which already keeps the log.
 */
export function logFileOf(cfg: { gateway: { dataDir: string }; log: { file?: string | false } }, env: NodeJS.ProcessEnv = process.env): string | null {
  if (cfg.log.file === false) return null;
  if (typeof cfg.log.file === 'string') return path.resolve(cfg.log.file);
  if (env.JOURNAL_STREAM) return null;
  return path.resolve(cfg.gateway.dataDir, 'agent.log');
}
