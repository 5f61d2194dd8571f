import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';

/**
 * The guard in a real process: a flash whose promise never settles (what a lost port once left behind) lets the
 * event loop run empty, which Node ends with status 0 unless the guard is armed.
 */
const run = (script: string): { status: number | null; stderr: string; stdout: string } => {
  const guard = path.join(REPO, 'dist', 'agent', 'cli', 'commands', 'unfinished-flash-guard.js');
  const res = spawnSync(process.execPath, ['-e', `const { UnfinishedFlashGuard } = require(${JSON.stringify(guard)});\n${script}`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: res.status, stderr: res.stderr, stdout: res.stdout };
};

describe('UnfinishedFlashGuard', () => {
  it('turns an event loop that runs empty mid-flash into exit 1 with one line', () => {
    const res = run(`
      const g = new UnfinishedFlashGuard((l) => process.stderr.write(l + '\\n'), (e) => process.stdout.write(JSON.stringify(e) + '\\n'));
      g.arm();
      g.note({ event: 'stage', stage: 'writing', message: '' });
      g.note({ event: 'progress', percent: 16, bytes: 1, total: 6, part: 0, parts: 1, bytesPerSecond: null, etaS: null });
      new Promise(() => {}); // a drain that never calls back
    `);
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      'edge-agent: the flash stopped without a result while writing at 16 % (the port went quiet: unplugged?) — the device may be half-written; reconnect it and run the same command again\n',
    );
    expect(JSON.parse(res.stdout)).toMatchObject({ event: 'result', ok: false, kind: 'lost', halfWritten: true });
  });

  it('turns an explicit exit 0 before the result into exit 1', () => {
    const res = run(`
      const g = new UnfinishedFlashGuard((l) => process.stderr.write(l + '\\n'));
      g.arm();
      process.exit(0);
    `);
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^edge-agent: the flash stopped without a result while connecting \(/)]);
  });

  it('stays out of the way once disarmed, and never touches a failing exit', () => {
    expect(run(`const g = new UnfinishedFlashGuard(() => { throw new Error('no'); }); g.arm(); g.disarm();`)).toMatchObject({ status: 0, stderr: '' });
    expect(run(`const g = new UnfinishedFlashGuard((l) => process.stderr.write(l)); g.arm(); process.exit(3);`)).toMatchObject({ status: 3, stderr: '' });
  });
});
