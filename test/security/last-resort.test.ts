import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';

/**
 * The last-resort handler in a real process (the built module, as `edge-agent run` installs it): what escapes
 * every input path is logged and counted; the process goes on, or exits 70 for systemd where going on is unsafe.
 */
function runWith(body: string): { code: number | null; out: string } {
  const mod = path.join(REPO, 'dist', 'agent', 'service', 'last-resort.js');
  const script = `
    const { installLastResort, faults } = require(${JSON.stringify(mod)});
    const logger = { error: (m, f) => console.log('LOG', m, JSON.stringify(f)), warn() {}, info() {}, debug() {} };
    installLastResort({ logger });
    ${body}
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('last-resort handler (a real node process)', () => {
  it('an uncaught exception and an unhandled rejection are logged and counted; the process keeps serving', () => {
    const r = runWith(`
      setTimeout(() => { throw new TypeError('boom from a callback'); }, 1);
      setTimeout(() => { void Promise.reject(new Error('nobody listened')); }, 5);
      setTimeout(() => console.log('STILL SERVING', JSON.stringify(faults)), 50);
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/LOG uncaught exception: the agent keeps serving/);
    expect(r.out).toMatch(/LOG unhandled promise rejection/);
    const m = /STILL SERVING (.*)/.exec(r.out);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1]!)).toMatchObject({ uncaughtExceptions: 1, unhandledRejections: 1, last: 'unhandled rejection: Error: nobody listened' });
  });

  it('a storage error exits 70 for systemd to restart the agent', () => {
    const r = runWith(`
      setTimeout(() => { const e = new Error('database disk image is malformed'); e.name = 'SqliteError'; e.code = 'SQLITE_CORRUPT'; throw e; }, 1);
      setTimeout(() => console.log('STILL SERVING'), 2000);
    `);
    expect(r.code).toBe(70);
    expect(r.out).toMatch(/exiting for the service manager to restart the agent \(the store failed\)/);
    expect(r.out).not.toMatch(/STILL SERVING/);
  });

  it('a storm of exceptions (more than 10 in a minute) exits 70', () => {
    const r = runWith(`
      for (let i = 0; i < 12; i++) setTimeout(() => { throw new Error('again ' + i); }, i);
      setTimeout(() => console.log('STILL SERVING'), 2000);
    `);
    expect(r.code).toBe(70);
    expect(r.out).toMatch(/more than 10 uncaught errors in a minute/);
  });
});
