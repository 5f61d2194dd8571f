import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');
const RUN = path.join(REPO, 'dist', 'scripts', 'bench', 'run.js');

interface BenchLine {
  name: string;
  value: number;
  unit: string;
  peer?: string;
  target?: string;
}

function runBench(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Keeps `npm run bench` runnable: a quick run of a few groups emits well-formed JSON lines. No performance asserts. */
describe('npm run bench --quick', () => {
  it('emits one JSON line per figure with a stable name, a unit and a positive value', async () => {
    if (!fs.existsSync(RUN))
      throw new Error(`${RUN} is missing: build first (npx tsc -p tsconfig.build.json)`);
    const r = await runBench(['--quick', '--only', 'ingest,latency,process'], 90_000);
    expect(r.stderr).not.toMatch(/bench failed/);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BenchLine);
    const names = lines.map((l) => l.name);
    for (const l of lines) {
      expect(l.name).toMatch(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/);
      expect(typeof l.unit).toBe('string');
      expect(l.unit.length).toBeGreaterThan(0);
      expect(Number.isFinite(l.value)).toBe(true);
      expect(l.value).toBeGreaterThan(0);
      if (l.peer !== undefined) expect(typeof l.peer).toBe('string');
    }
    expect(new Set(names).size).toBe(names.length);
    for (const required of [
      'ingest.durable_throughput.20dev',
      'latency.decode_to_decision.p99.1keps',
      'latency.offered_to_decision.p99.1keps',
      'agent.cold_start.ready_median',
      'agent.load.home.rss_mean',
      'agent.load.heavy.cpu',
    ]) {
      expect(names).toContain(required);
    }
    // the readable table closes the run
    expect(r.stderr).toMatch(/figure\s+value\s+unit/);
  }, 120_000);

  it('refuses an unknown group with exit 2', async () => {
    const r = await runBench(['--only', 'nope'], 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--only needs one of/);
  });
});
