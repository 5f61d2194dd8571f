import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

describe('edge-agent index (DESIGN §4 formula, through the built CLI)', () => {
  it.each([
    // recency, frequency, value, scale, expected index
    ['3', '14', '72', undefined, 336],
    ['3', '14', '72', '10', 33.6],
    ['30', '2', '40', undefined, 2.6666666667],
    ['30', '2', '40', '10', 0.26666666667],
    ['0.25', '5', '100', undefined, 500], // R floored at 1 day
    ['2', '0', '72', undefined, 0],
  ])('R=%s F=%s V=%s S=%s → %s', async (r, f, v, s, expected) => {
    const args = ['index', '--recency', r, '--frequency', f, '--value', v, '--json', ...(s ? ['--scale', s] : [])];
    const res = await runCli(args);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { index: number };
    expect(out.index).toBeCloseTo(expected, 8);
  });

  it('prints a readable line by default with the result', async () => {
    const res = await runCli(['index', '--recency', '3', '--frequency', '14', '--value', '72']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/= 336\s*$/);
    const ten = await runCli(['index', '--recency', '3', '--frequency', '14', '--value', '72', '--scale', '10']);
    expect(ten.stdout).toMatch(/= 33\.6\s*$/);
  });

  it.each([
    [['--recency', '3', '--frequency', '14', '--value', '140'], /value.*0.*100/i],
    [['--recency', '3', '--frequency', '14', '--value', '-1'], /value/i],
    [['--recency', 'abc', '--frequency', '14', '--value', '72'], /--recency must be a number/],
    [['--recency', '3', '--frequency', '1.5', '--value', '72'], /frequency/i],
    [['--recency', '3', '--frequency', '14', '--value', '72', '--scale', '0'], /scale/i],
    [['--recency', '3', '--frequency', '14'], /value/],
  ])('rejects %j with exit 2 and one line', async (args, re) => {
    const res = await runCli(['index', ...args]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(re);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });
});

describe('CLI conventions', () => {
  it('--help lists the commands and exits 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const c of ['run', 'demo', 'status', 'index', 'config']) expect(res.stdout).toContain(c);
  });

  it.each([['index'], ['status'], ['demo'], ['run'], ['config', 'validate']])('%s --help exits 0', async (...cmd) => {
    const res = await runCli([...cmd, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Usage: edge-agent/);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const res = await runCli(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown command/);
  });

  it('--version prints the package version', async () => {
    const res = await runCli(['--version']);
    expect(res.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(res.stdout.trim()).toBe(pkg.version);
  });

  it('status without a running agent fails in one line with what to do (exit 1)', async () => {
    const res = await runCli(['status', '--url', 'http://127.0.0.1:9']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/the agent is not running .* start it with: edge-agent run/);
  });
});

describe('config validate and run with a malformed config', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  const write = (name: string, text: string): string => {
    const p = path.join(t.dir, name);
    fs.writeFileSync(p, text);
    return p;
  };

  const bad = `gateway: { id: gw-1, dataDir: ./data }
devices:
  - { id: a, transport: sim, model: kitchen-scale, profile: p }
  - { id: b, transport: sim, model: fridge-door, profile: p }
  - { id: c, transport: serial, profile: p }
`;

  it('names the YAML path of the problem and exits 2', async () => {
    const res = await runCli(['config', 'validate', '--config', write('bad.yaml', bad)]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^devices\[2\]\.port: /m);
  });

  it('`run` with the same config prints one line, exits 2 and starts nothing', async () => {
    const res = await runCli(['run', '--config', write('bad.yaml', bad)]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/devices\[2\]\.port/);
    expect(fs.existsSync(path.join(t.dir, 'data'))).toBe(false);
  });

  it('accepts the shipped demo and example configs', async () => {
    for (const f of ['config/demo.yaml', 'config/example.yaml']) {
      const res = await runCli(['config', 'validate', '--config', f]);
      expect(res.stderr).not.toMatch(/error/i);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/valid/);
    }
  });

  it('--json reports issues as data', async () => {
    const res = await runCli(['config', 'validate', '--json', '--config', write('bad.yaml', bad)]);
    expect(res.code).toBe(2);
    const doc = JSON.parse(res.stdout) as { ok: boolean; issues: Array<{ path: string }> };
    expect(doc.ok).toBe(false);
    expect(doc.issues.map((i) => i.path)).toContain('devices[2].port');
  });

  it('a missing file says how to create one', async () => {
    const res = await runCli(['config', 'validate', '--config', path.join(t.dir, 'nope.yaml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no such file/);
  });
});
