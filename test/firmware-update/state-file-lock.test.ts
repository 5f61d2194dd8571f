import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateFileLock, StateLockTimeout } from '../../agent/firmware-update/state-file-lock';
import { REPO } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { timeScale } from '../support/time-scale';

/** Runs `script` in a node process; resolves with its exit code and stderr. */
function runNode(script: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

describe('StateFileLock: the firmware state shared by the agent and the CLI', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('edge-fw-lock-')));
  afterEach(() => t.cleanup());

  it('two processes deferring devices at once (built code, real files) lose none of the choices', async () => {
    const dist = JSON.stringify(path.join(REPO, 'dist', 'agent', 'firmware-update', 'firmware-updates.js'));
    const writer = (name: string): string => `
      const { FirmwareUpdates } = require(${dist});
      const u = new FirmwareUpdates(${JSON.stringify(t.dir)});
      for (let i = 0; i < 120; i++) u.defer('${name}-' + i, { until: 1e13 + i });`;
    const results = await Promise.all([runNode(writer('a')), runNode(writer('b'))]);
    for (const r of results) expect(r).toEqual({ code: 0, stderr: '' });
    const household = JSON.parse(
      fs.readFileSync(path.join(t.dir, 'firmware', 'household.json'), 'utf8'),
    ) as object;
    expect(Object.keys(household)).toHaveLength(240);
    // nothing left behind: no lock, no temp files
    expect(
      fs.readdirSync(path.join(t.dir, 'firmware')).filter((f) => f.endsWith('.lock') || f.endsWith('.tmp')),
    ).toEqual([]);
  });

  it('is reentrant in a process and removed when the outer hold ends, also on a throw', () => {
    const file = path.join(t.dir, 'state.lock');
    const a = new StateFileLock(file);
    const b = new StateFileLock(path.relative(process.cwd(), file));
    expect(a.hold(() => b.hold(() => fs.existsSync(file)))).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
    expect(() =>
      a.hold(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('takes over the lock of a process that is gone, or of one left by a power cut (old), never a live fresh one', async () => {
    const file = path.join(t.dir, 'state.lock');
    // a pid that certainly is gone: a process that ran and exited
    const gone = await new Promise<number>((resolve) => {
      const c = spawn(process.execPath, ['-e', '0']);
      c.once('close', () => resolve(c.pid ?? 0));
    });
    fs.writeFileSync(file, `${gone}\n`);
    expect(new StateFileLock(file, { timeoutMs: 5_000 * timeScale() }).hold(() => 'held')).toBe('held');

    // a live process (this test's parent) that has held it for an hour: a leftover from before a reboot
    fs.writeFileSync(file, `${process.ppid}\n`);
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, hourAgo, hourAgo);
    expect(new StateFileLock(file, { timeoutMs: 5_000 * timeScale() }).hold(() => 'held')).toBe('held');

    // a live process holding it now: wait, then a clear error naming it; the lock is left alone
    fs.writeFileSync(file, `${process.ppid}\n`);
    const live = new StateFileLock(file, { timeoutMs: 100 });
    expect(() => live.hold(() => 'held')).toThrow(StateLockTimeout);
    expect(() => live.hold(() => 'held')).toThrow(`locked by process ${process.ppid}`);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${process.ppid}\n`);
  });
});
