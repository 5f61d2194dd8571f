import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { defaultApiListen } from '../../agent/cli/api-client';
import { runCli, startCli } from '../support/run-cli';
import { freePort } from '../support/free-port';
import { tempDir } from '../support/temp-dir';

/** How the CLI finds and talks to the running agent (issue #23, "one way for the CLI"), through the built CLI. */
describe('the CLI talking to the running agent', () => {
  let t: ReturnType<typeof tempDir>;
  /** a working directory with no config.yaml, and no EDGE_AGENT_CONFIG in the environment (runCli starts clean) */
  let empty: string;
  beforeEach(() => {
    t = tempDir();
    empty = path.join(t.dir, 'elsewhere');
    fs.mkdirSync(empty);
  });
  afterEach(() => t.cleanup());

  it('without a config file, the address is the schema default (EDGE_AGENT_API_LISTEN overrides it)', () => {
    expect(defaultApiListen({})).toBe('127.0.0.1:8787');
    expect(defaultApiListen({ EDGE_AGENT_API_LISTEN: '127.0.0.1:9999', EDGE_AGENT_GATEWAY_ID: 'x' })).toBe('127.0.0.1:9999');
  });

  it('`status`, `sync`, `devices list` and `report` find a running agent without a config file, at the default-address override', async () => {
    const port = await freePort();
    const cfg = path.join(t.dir, 'agent.yaml');
    fs.writeFileSync(cfg, `gateway: { id: gw-noconfig, dataDir: ${JSON.stringify(path.join(t.dir, 'data'))} }\napi: { listen: "127.0.0.1:${port}" }\n`);
    const agent = startCli(['run', '--config', cfg]);
    try {
      await agent.waitFor(/ready/);
      const env = { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` };
      const status = await runCli(['status'], { cwd: empty, env });
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^gateway gw-noconfig /);
      const json = await runCli(['status', '--json'], { cwd: empty, env });
      expect((JSON.parse(json.stdout) as { gateway: { id: string } }).gateway.id).toBe('gw-noconfig');
      const sync = await runCli(['sync'], { cwd: empty, env });
      expect(sync.code).toBe(0);
      expect(sync.stdout).toMatch(/no upstream configured/);
      const devices = await runCli(['devices', 'list', '--json'], { cwd: empty, env });
      expect(devices.code).toBe(0);
      expect(JSON.parse(devices.stdout)).toEqual({ live: true, devices: [] });
      const report = await runCli(['report', '--json'], { cwd: empty, env });
      expect(report.code).toBe(0);
      expect(JSON.parse(report.stdout)).toMatchObject({ source: 'agent', campaigns: [] });
      // History is in the database, which only a config file locates: a usage error that says so.
      const since = await runCli(['report', '--since', '7d'], { cwd: empty, env });
      expect(since.code).toBe(2);
      expect(since.stderr).toMatch(/--since and --chart read the database: pass --config FILE/);
      // With a config file, its api.listen is used (the same agent, found through the file).
      const viaFile = await runCli(['status', '--config', cfg], { cwd: empty });
      expect(viaFile.stdout).toMatch(/^gateway gw-noconfig /);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
  }, 30_000);

  it('nothing answering is one line, worded once, saying where it looked and what to do (exit 1)', async () => {
    const port = await freePort();
    const cases: Array<[string[], { cwd?: string; env?: NodeJS.ProcessEnv }, RegExp]> = [
      [['status'], { cwd: empty, env: { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` } }, /no config file found/],
      [['sync'], { cwd: empty, env: { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` } }, /no config file found/],
      [['devices', 'list'], { cwd: empty, env: { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` } }, /no config file found/],
      [['report'], { cwd: empty, env: { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` } }, /no config file found/],
      [['status', '--url', `http://127.0.0.1:${port}`], { cwd: empty }, /from --url/],
    ];
    for (const [args, opts, where] of cases) {
      const res = await runCli(args, opts);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(
        new RegExp(`^edge-agent: the agent is not running \\(nothing answers at http://127\\.0\\.0\\.1:${port}, .*\\) — start it with: edge-agent run .*check --config and api\\.listen`),
      );
      expect(res.stderr).toMatch(where);
    }
  });

  it('an error reply to a GET is printed as the error, never rendered as a document', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'storage is closing' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const env = { EDGE_AGENT_API_LISTEN: `127.0.0.1:${port}` };
      for (const cmd of ['sync', 'status']) {
        const res = await runCli([cmd], { cwd: empty, env });
        expect(res.code).toBe(1);
        expect(res.stdout).toBe('');
        expect(res.stderr).toMatch(new RegExp(`^edge-agent: the agent answered api/${cmd} with an error: storage is closing$`, 'm'));
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
