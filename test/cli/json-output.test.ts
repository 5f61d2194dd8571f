import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../agent/cli/main';
import { processOutput } from '../../agent/cli/output';
import { freePort } from '../support/free-port';
import { runCli, type CliResult } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/** docs/cli.md: under --json stdout is only compact JSON lines, and a failure is {"ok": false, "error": {message}}. */
interface Failure {
  ok: false;
  error: { message: string; exitCode: number };
}

function jsonLines(res: CliResult): unknown[] {
  const lines = res.stdout.split('\n').filter((l) => l !== '');
  return lines.map((l) => {
    expect(l.trim()).toBe(l); // compact: one document per line, no indentation
    return JSON.parse(l) as unknown;
  });
}

function expectFailure(res: CliResult, code: number, message: RegExp): Failure {
  expect(res.code).toBe(code);
  const docs = jsonLines(res);
  const last = docs.at(-1) as Failure;
  expect(last).toMatchObject({ ok: false, error: { exitCode: code } });
  expect(last.error.message).toMatch(message);
  expect(res.stderr).not.toMatch(/^edge-agent: /m); // the error is said once, in the JSON
  return last;
}

/** Every leaf command that takes --json, with its path, its positional arguments and its required options. */
function jsonCommands(): Array<{ name: string; args: string[] }> {
  const out: Array<{ name: string; args: string[] }> = [];
  const walk = (c: Command, at: string[]): void => {
    if (c.commands.length > 0) return c.commands.forEach((s) => walk(s, [...at, s.name()]));
    if (!c.options.some((o) => o.long === '--json')) return;
    const positional = c.registeredArguments.filter((a) => a.required).map(() => 'no-such-device');
    const required = c.options.filter((o) => o.mandatory || o.required).flatMap((o) => (o.mandatory ? [o.long ?? '', '/no/such/thing'] : []));
    out.push({ name: at.join(' '), args: [...at, ...positional, ...required] });
  };
  walk(buildProgram(processOutput, true, () => undefined), []);
  return out;
}

describe('--json output through the built CLI (docs/cli.md)', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('a usage error is a JSON failure with exit 2', async () => {
    const res = await runCli(['index', '--recency', '3', '--json']);
    expectFailure(res, 2, /required option '-f, --frequency <count>' not specified/);
  });

  it('"the agent is not running" is a JSON failure with exit 1', async () => {
    const port = await freePort();
    const res = await runCli(['status', '--json', '--url', `http://127.0.0.1:${port}`]);
    expectFailure(res, 1, new RegExp(`the agent is not running \\(nothing answers at http://127\\.0\\.0\\.1:${port}`));
  });

  it('an invalid config keeps its issues next to the error', async () => {
    const file = path.join(t.dir, 'bad.yaml');
    fs.writeFileSync(file, 'gateway: { id: "" }\nengagement: { windowDays: -1 }\n');
    const doc = expectFailure(await runCli(['config', 'validate', '--json', '--config', file]), 2, /bad\.yaml: \d+ problems?/) as Failure & {
      issues: Array<{ path: string }>;
    };
    expect(doc.issues.map((i) => i.path)).toContain('engagement.windowDays');
  });

  it('a success is one compact line', async () => {
    const res = await runCli(['index', '-r', '3', '-f', '14', '-v', '72', '--json']);
    expect(res.code).toBe(0);
    expect(jsonLines(res)).toEqual([expect.objectContaining({ index: 336 })]);
  });

  it('every command with --json prints only JSON on stdout, a failure included', async () => {
    const commands = jsonCommands();
    expect(commands.length).toBeGreaterThanOrEqual(20);
    const missing = path.join(t.dir, 'missing.yaml');
    const port = await freePort();
    for (const c of commands) {
      const res = await runCli([...c.args, '--json', '--config', missing], {
        cwd: t.dir,
        env: { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` },
        timeoutMs: 30_000,
      });
      const docs = jsonLines(res);
      if (res.code === 0) continue; // e.g. `devices scan` needs no config
      expect({ command: c.name, last: docs.at(-1) }).toMatchObject({ command: c.name, last: { ok: false, error: { message: expect.any(String), exitCode: res.code } } });
      expect({ command: c.name, stderr: res.stderr }).not.toMatchObject({ stderr: expect.stringMatching(/^edge-agent: /m) });
    }
  }, 120_000);
});
