import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, REPO } from '../support/run-cli';
import { freePort } from '../support/free-port';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

/**
 * Issue #21, attack 6 (files): `edge-agent run` outside systemd, started with umask 000, must still leave the data
 * directory and everything in it unreadable to other users.
 */
async function runUntilReady(config: string): Promise<void> {
  const child = spawn('sh', ['-c', `umask 000; exec "${process.execPath}" "${BIN}" run --config "${config}"`], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.on('close', r));
  try {
    await waitUntil('the agent ready', () => /ready/.test(out), 20_000, () => `\n${out}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const mode = (p: string): string => (fs.statSync(p).mode & 0o777).toString(8);

describe('data directory modes under umask 000 (built CLI)', () => {
  it('a new data directory is 0700 and its files 0600; an existing world-readable one loses its "other" bits', async () => {
    const t = tempDir();
    try {
      const data = path.join(t.dir, 'data');
      const config = path.join(t.dir, 'config.yaml');
      fs.writeFileSync(config, `gateway: { id: gw-modes, dataDir: ${data} }\napi: { listen: "127.0.0.1:${await freePort()}" }\ndevices: []\n`);
      await runUntilReady(config);
      expect(mode(data)).toBe('700');
      const files = fs.readdirSync(data);
      expect(files).toEqual(expect.arrayContaining(['edge-agent.db', 'api-token', 'panel-code']));
      for (const f of files) {
        const p = path.join(data, f);
        expect([f, mode(p)]).toEqual([f, fs.statSync(p).isDirectory() ? '700' : '600']);
      }

      // a directory someone made world-readable by hand, with a world-readable database in it
      fs.chmodSync(data, 0o755);
      fs.chmodSync(path.join(data, 'edge-agent.db'), 0o644);
      await runUntilReady(config);
      expect(mode(data)).toBe('750');
      for (const f of fs.readdirSync(data)) expect((fs.statSync(path.join(data, f)).mode & 0o007) === 0).toBe(true);
      expect(mode(path.join(data, 'edge-agent.db'))).toBe('640'); // group read, as the directory grants
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
