import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RotatingLogFile } from '../../agent/logging/rotating-log-file';
import { formatLogRecord, matchesFilter, parseLogLine } from '../../agent/logging/log-record';
import { freePort } from '../support/free-port';
import { runCli, startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

function writeConfig(dir: string, apiPort: number): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    [
      `gateway: { id: logs-gw, dataDir: ${JSON.stringify(path.join(dir, 'data'))} }`,
      `api: { listen: "127.0.0.1:${apiPort}" }`,
      'devices:',
      '  - { id: scale-1, transport: sim, model: kitchen-scale, profile: smith-family, ratePerMin: 1200 }',
      '  - { id: door-1, transport: sim, model: fridge-door, profile: smith-family, ratePerMin: 60 }',
      'campaigns:',
      '  - { id: coffee, qualify: { event: dispense }, value: 72, threshold: 0.5, cooldown: 1s, channels: [push] }',
      'consent:',
      '  grants:',
      '    - { device: scale-1, category: usage }',
      '    - { profile: smith-family, campaign: coffee }',
      '    - { profile: smith-family, channel: push }',
      '',
    ].join('\n'),
  );
  return file;
}

describe('log records (pure)', () => {
  const line = JSON.stringify({ time: '2026-12-01T08:00:00.000Z', level: 'warn', msg: 'device link down', device: 'scale-1', detail: 'port missing' });
  it.each([
    [{ level: 'info' as const }, true],
    [{ level: 'error' as const }, false],
    [{ device: 'scale-1' }, true],
    [{ device: 'door-1' }, false],
    [{ grep: 'PORT MISSING' }, true],
    [{ grep: 'nothing like it' }, false],
    [{ since: Date.parse('2026-12-01T08:00:01Z') }, false],
  ])('filter %j → %s', (f, expected) => {
    expect(matchesFilter(parseLogLine(line)!, f)).toBe(expected);
  });
  it('rejects what is not one of our records', () => {
    for (const l of ['', 'at Object.<anonymous> (x.js:1:1)', '{"time":1}', '{"time":"t","level":"loud","msg":"m"}', '{broken']) expect(parseLogLine(l)).toBeNull();
    expect(formatLogRecord(parseLogLine(line)!, false)).toBe('2026-12-01 08:00:00 warn  device link down {"device":"scale-1","detail":"port missing"}');
  });
  it('a rotating file never grows past its bound and keeps one older file', () => {
    const t = tempDir();
    try {
      const f = new RotatingLogFile(path.join(t.dir, 'logs', 'agent.log'), 4096);
      for (let i = 0; i < 500; i++) f.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: `line ${i}` }));
      expect(fs.statSync(path.join(t.dir, 'logs', 'agent.log')).size).toBeLessThanOrEqual(4096);
      expect(fs.statSync(path.join(t.dir, 'logs', 'agent.log.1')).size).toBeLessThanOrEqual(4096);
      expect(fs.readFileSync(path.join(t.dir, 'logs', 'agent.log'), 'utf8')).toContain('line 499');
      expect(f.failures).toBe(0);
      fs.rmSync(path.join(t.dir, 'logs'), { recursive: true });
      f.write('{"after":"the directory vanished"}'); // counted, never thrown
      expect(f.failures).toBe(1);
    } finally {
      t.cleanup();
    }
  });
});

describe('edge-agent logs (real agent, its log file)', () => {
  let t: ReturnType<typeof tempDir>;
  let cfg: string;
  beforeAll(async () => {
    t = tempDir();
    cfg = writeConfig(t.dir, await freePort());
  });
  afterAll(() => t.cleanup());

  it('filters by level, device and text, follows new lines, and keeps profile ids out of info lines', async () => {
    const agent = startCli(['run', '--config', cfg]);
    try {
      await agent.waitFor(/ready/);
      const logFile = path.join(t.dir, 'data', 'agent.log');
      await waitUntil('a trigger logged', () => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('campaign triggered'), 20_000);

      const all = await runCli(['logs', '--config', cfg, '--json', '-n', '500']);
      expect(all.code).toBe(0);
      const recs = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; device?: string });
      expect(recs.map((r) => r.msg)).toEqual(expect.arrayContaining(['agent started', 'device linked', 'campaign triggered', 'ready']));
      const door = await runCli(['logs', '--config', cfg, '--device', 'door-1', '--json']);
      const doorRecs = door.stdout.trim().split('\n').map((l) => JSON.parse(l) as { device: string });
      expect(doorRecs.length).toBeGreaterThan(0);
      expect(doorRecs.every((r) => r.device === 'door-1')).toBe(true);
      const warn = await runCli(['logs', '--config', cfg, '--level', 'warn', '--json']);
      expect(warn.stdout.trim() === '' || warn.stdout.trim().split('\n').every((l) => ['warn', 'error'].includes((JSON.parse(l) as { level: string }).level))).toBe(true);
      const human = await runCli(['logs', '--config', cfg, '--grep', 'campaign triggered', '-n', '1']);
      expect(human.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d info {2}campaign triggered \{"campaign":"coffee","channels":\["push"\],"signal":".+"\}\n$/);

      const follow = startCli(['logs', '--config', cfg, '--follow', '--grep', 'consent withdrawn', '-n', '1']);
      try {
        await new Promise((r) => setTimeout(r, 500));
        const revoke = await runCli(['consent', 'revoke', '--config', cfg, '--profile', 'smith-family', '--channel', 'push']);
        expect(revoke.code).toBe(0);
        await follow.waitFor(/consent withdrawn \{"scope":"channel","target":"push","source":"cli"/);
      } finally {
        follow.child.kill('SIGINT');
        expect(await follow.exit).toBe(0);
      }

      // Privacy: at info and above, nothing names the household profile (it can be a family's name).
      const text = fs.readFileSync(logFile, 'utf8');
      const infoLines = text.split('\n').filter((l) => l && !l.includes('"level":"debug"'));
      expect(infoLines.length).toBeGreaterThan(5);
      expect(infoLines.filter((l) => l.includes('smith-family'))).toEqual([]);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
  }, 60_000);

  it('bad flags are usage errors; a missing log says what to check', async () => {
    expect(await runCli(['logs', '--config', cfg, '--level', 'loud'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--level loud: one of debug, info, warn, error/) });
    expect(await runCli(['logs', '--config', cfg, '--since', 'yesterday-ish'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--since yesterday-ish/) });
    expect(await runCli(['logs', '--file', path.join(t.dir, 'nope.log')])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no log at .*nope\.log yet/) });
  });
});

describe('CLI quality: help with examples everywhere, shell completion', () => {
  let script = '';
  beforeAll(async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.code).toBe(0);
    script = r.stdout;
  });

  it('every command has --help with examples', async () => {
    const paths = [...script.matchAll(/^ {4}"([^"]+)"\) words=/gm)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(20);
    const groups = new Set(paths.map((p) => p.split(' ').slice(0, -1).join(' ')).filter(Boolean));
    const leaves = paths.filter((p) => !groups.has(p));
    const missing: string[] = [];
    for (const p of leaves) {
      const r = await runCli([...p.split(' '), '--help']);
      if (r.code !== 0 || !/Examples?:/.test(r.stdout)) missing.push(p);
    }
    expect(missing).toEqual([]);
  }, 60_000);

  it('the completion script is valid bash and completes commands, subcommands and options', () => {
    const complete = (words: string[]): string[] => {
      const cword = words.length - 1;
      const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${cword}; _edge_agent; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.trim().split('\n').filter(Boolean);
    };
    expect(complete(['edge-agent', 'doc'])).toEqual(['doctor']);
    expect(complete(['edge-agent', 'devices', 'un'])).toEqual(['unpair']);
    expect(complete(['edge-agent', 'devices', 'pair', '--pro'])).toEqual(['--profile']);
    expect(complete(['edge-agent', 'devices', 'show', 'scale-1', '--j'])).toEqual(['--json']);
    expect(complete(['edge-agent', 'consent', ''])).toEqual(expect.arrayContaining(['grant', 'revoke', 'verify', 'export', 'show']));
  });
});
