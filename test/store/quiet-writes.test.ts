import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { timeScale } from '../support/time-scale';
import { waitUntil } from '../support/wait-until';

/** Bytes a process caused to be written to storage so far (all its threads): /proc/<pid>/io write_bytes. */
const writeBytes = (pid: number): number => Number(/^write_bytes:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);

/*
 * A quiet gateway writes nothing (issue #24: an agent restarted on its data with no devices wrote ~9 KB every
 * second — counters rewritten every 5 s and the engagement clock every second, each a commit and an fsync).
 * The periodic writes that remain are named in docs/performance.md; none falls in this window.
 */
describe('a quiet agent (built CLI, real SQLite file)', () => {
  const t = tempDir('edge-quiet-');
  afterAll(() => t.cleanup());

  it('restarted on its data with nothing arriving, it writes 0 bytes to storage', async () => {
    const dataDir = path.join(t.dir, 'data');
    const cfg = (ratePerMin: number | null): string => {
      const file = path.join(t.dir, `config-${ratePerMin ?? 'none'}.yaml`);
      fs.writeFileSync(
        file,
        [
          `gateway: { id: gw-quiet, dataDir: ${dataDir} }`,
          `api: { listen: "127.0.0.1:${port}" }`,
          // quiet: the device is configured but absent (its serial port is not there)
          ratePerMin === null
            ? `devices: [{ id: scale-1, transport: serial, port: ${path.join(t.dir, 'absent-tty')}, profile: home-a }]`
            : `devices: [{ id: scale-1, transport: sim, model: kitchen-scale, profile: home-a, ratePerMin: ${ratePerMin} }]`,
          'campaigns:',
          '  - { id: coffee, qualify: { event: dispense }, value: 50, threshold: 1000000, channels: [push] }',
          'log: { level: info, file: false }',
          'consent:',
          '  grants:',
          '    - { device: scale-1, category: usage }',
          '    - { profile: home-a, campaign: coffee }',
          '',
        ].join('\n'),
      );
      return file;
    };
    const port = await freePort();
    // A busy first run leaves engagement state, counters and a WAL behind.
    const busy = startCli(['run', '--config', cfg(1200)]);
    await busy.waitFor(/ready/, 20_000 * timeScale());
    await waitUntil('a WAL', () => fs.existsSync(path.join(dataDir, 'edge-agent.db-wal')), 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    busy.child.kill('SIGTERM');
    expect(await busy.exit).toBe(0);

    const quiet = startCli(['run', '--config', cfg(null)]);
    try {
      await quiet.waitFor(/ready/, 20_000 * timeScale());
      const pid = quiet.child.pid as number;
      // Start-up may write (the fsync at open, a first save of counters); then nothing.
      await new Promise((r) => setTimeout(r, 2000));
      const before = writeBytes(pid);
      await new Promise((r) => setTimeout(r, 7000)); // longer than the counters' 5 s and the 1 s engagement tick
      expect({ writtenWhileQuiet: writeBytes(pid) - before }).toEqual({ writtenWhileQuiet: 0 });
    } finally {
      quiet.child.kill('SIGTERM');
      await quiet.exit;
    }
  }, 90_000);
});
