import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export const hasTmux = ['/usr/bin/tmux', '/bin/tmux', '/usr/local/bin/tmux'].some((p) => fs.existsSync(p));

/**
 * A real terminal for interactive CLI tests: a detached tmux session running the command, typed into with
 * send-keys and read back with capture-pane — what a technician's terminal shows, prompts and all.
 */
export class TmuxSession {
  private readonly name = `edge-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(command: string, opts: { cwd: string; env?: Record<string, string> }) {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const r = spawnSync('tmux', ['new-session', '-d', '-s', this.name, '-x', '200', '-y', '50', '-c', opts.cwd, ...env, command], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
  }

  screen(): string {
    return spawnSync('tmux', ['capture-pane', '-p', '-J', '-S', '-200', '-t', this.name], { encoding: 'utf8' }).stdout;
  }

  /** Types a line and presses Enter, as a person would. */
  type(text: string): void {
    spawnSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
    spawnSync('tmux', ['send-keys', '-t', this.name, 'Enter']);
  }

  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (re.test(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} on the terminal:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
