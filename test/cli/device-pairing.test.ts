import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SerialSimDevice } from '../../drivers/sim';
import { AgentClient, readApiToken } from '../../agent/cli/api-client';
import { freePort } from '../support/free-port';
import { PtyPair, hasSocat } from '../support/pty-pair';
import { BIN, REPO, runCli, startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { TmuxSession, hasTmux } from '../support/tmux';
import { waitUntil } from '../support/wait-until';

function writeConfig(dir: string, apiPort: number): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    [
      '# household config: these comments must survive pairing',
      `gateway: { id: pair-gw, dataDir: ${JSON.stringify(path.join(dir, 'data'))} }`,
      `api: { listen: "127.0.0.1:${apiPort}" }`,
      'devices:',
      '  # the door sensor in the hallway',
      '  - { id: door-1, transport: sim, model: fridge-door, profile: home-a, ratePerMin: 60 }',
      'campaigns:',
      '  - { id: coffee, qualify: { event: dispense }, value: 72, threshold: 30, cooldown: 7d, channels: [push, device] }',
      '',
    ].join('\n'),
  );
  return file;
}

const rows = (db: string, sql: string, ...args: unknown[]): number => {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare(sql).get(...args) as { n: number }).n;
  } finally {
    d.close();
  }
};

(hasSocat ? describe : describe.skip)('devices pair / show / unpair (real CLI, real agent, real PTY)', () => {
  let t: ReturnType<typeof tempDir>;
  let cfg: string;
  let apiPort: number;
  let db: string;
  beforeEach(async () => {
    t = tempDir();
    apiPort = await freePort();
    cfg = writeConfig(t.dir, apiPort);
    db = path.join(t.dir, 'data', 'edge-agent.db');
  });
  afterEach(() => t.cleanup());

  it('pairs a serial device into a running agent with flags, shows it streaming, then unpairs it with its data erased', async () => {
    const agent = startCli(['run', '--config', cfg]);
    const pty = new PtyPair(t.dir);
    let sim: SerialSimDevice | null = null;
    try {
      await agent.waitFor(/ready/);
      await pty.start();
      const pair = await runCli(['devices', 'pair', '--config', cfg, '--transport', 'serial', '--port', pty.gateway, '--id', 'scale-1', '--profile', 'home-a', '--grant', 'usage', '--campaign', 'coffee', '--channel', 'push', '--json'], { timeoutMs: 30_000 });
      expect(pair.stderr).toBe('');
      expect(pair.code).toBe(0);
      const out = JSON.parse(pair.stdout) as { agent: string; consents: Array<{ via: string; seq: number }> };
      expect(out.agent).toBe('reloaded');
      expect(out.consents.map((c) => c.via)).toEqual(['agent', 'agent', 'agent']);
      const text = fs.readFileSync(cfg, 'utf8');
      expect(text).toContain('# the door sensor in the hallway');
      expect(text).toContain('# household config: these comments must survive pairing');
      expect(text).toMatch(/- \{ id: scale-1, transport: serial, port: .*ttyUSB0, baud: 115200, profile: home-a \}/);

      sim = new SerialSimDevice(pty.device, { id: 'scale-1', model: 'kitchen-scale', fw: '2.1.0', kind: 'kitchen-scale', ratePerMin: 600 });
      await sim.open();
      await waitUntil('events of the paired device stored', () => rows(db, 'SELECT count(*) AS n FROM events WHERE device = ?', 'scale-1') >= 3, 15_000);

      const show = await runCli(['devices', 'show', 'scale-1', '--config', cfg, '--json']);
      expect(show.code).toBe(0);
      const d = JSON.parse(show.stdout) as { fw: string; model: string; link: { connected: boolean }; consent: Array<{ category: string; granted: boolean }>; latest: unknown[] };
      expect(d).toMatchObject({ fw: '2.1.0', model: 'kitchen-scale', link: { connected: true }, consent: [{ category: 'usage', granted: true }] });
      expect(d.latest.length).toBeGreaterThan(0);
      const human = await runCli(['devices', 'show', 'scale-1', '--config', cfg]);
      expect(human.stdout).toMatch(/^scale-1 {2}serial .*ttyUSB0 @ 115200 {2}profile home-a$/m);
      expect(human.stdout).toMatch(/link {7}connected \(open .*ttyUSB0 @ 115200\), \d+ frames ok, 0 bad/);
      expect(human.stdout).toMatch(/consent {4}usage granted/);

      const unpair = await runCli(['devices', 'unpair', 'scale-1', '--config', cfg, '--yes', '--json'], { timeoutMs: 30_000 });
      expect(unpair.stderr).toBe('');
      expect(unpair.code).toBe(0);
      const u = JSON.parse(unpair.stdout) as { withdrawn: string[]; erased: { raw: number }; agent: string };
      expect(u.withdrawn).toEqual(['usage']);
      expect(u.erased.raw).toBeGreaterThanOrEqual(3);
      expect(u.agent).toBe('reloaded');
      expect(fs.readFileSync(cfg, 'utf8')).not.toContain('scale-1');
      expect(fs.readFileSync(cfg, 'utf8')).toContain('# the door sensor in the hallway');
      expect(rows(db, 'SELECT count(*) AS n FROM events WHERE device = ?', 'scale-1')).toBe(0);
      expect(rows(db, 'SELECT count(*) AS n FROM readings WHERE device = ?', 'scale-1')).toBe(0);
      expect(rows(db, 'SELECT count(*) AS n FROM devices WHERE id = ?', 'scale-1')).toBe(0);
      // The device keeps sending; the agent no longer listens to it and stores nothing of it.
      await new Promise((r) => setTimeout(r, 1500));
      expect(rows(db, 'SELECT count(*) AS n FROM events WHERE device = ?', 'scale-1')).toBe(0);
      const status = await new AgentClient(`http://127.0.0.1:${apiPort}`, 'test').status();
      expect(status.devices.map((x) => x.id)).toEqual(['door-1']);
      const verify = await runCli(['consent', 'verify', '--config', cfg]);
      expect(verify.code).toBe(0);
    } finally {
      await sim?.close();
      agent.child.kill('SIGTERM');
      await agent.exit;
      await pty.stop();
    }
  }, 90_000);

  it('refuses bad pairings with one line and exit 2, and an invalid config never replaces the running one', async () => {
    const base = ['devices', 'pair', '--config', cfg];
    const missing = await runCli(base);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/missing --transport, --id, --profile/);
    const bad = await runCli([...base, '--transport', 'serial', '--port', '/dev/null', '--id', 'x-1', '--profile', 'home-a', '--grant', 'usage,dna', '--yes']);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/--grant: unknown category dna/) });
    const dup = await runCli([...base, '--transport', 'sim', '--id', 'door-1', '--profile', 'home-a', '--yes']);
    expect(dup.code).toBe(2);
    const dup2 = await runCli([...base, '--transport', 'serial', '--port', '/dev/null', '--id', 'door-1', '--profile', 'home-a', '--yes']);
    expect(dup2).toMatchObject({ code: 2, stderr: expect.stringMatching(/"door-1" is already paired/) });
    const ble = await runCli([...base, '--transport', 'ble', '--address', 'nope', '--id', 'b-1', '--profile', 'home-a', '--yes']);
    expect(ble).toMatchObject({ code: 2, stderr: expect.stringMatching(/a BLE address like 24:6F:28:AA:BB:CC/) });
    const unknown = await runCli(['devices', 'unpair', 'ghost', '--config', cfg, '--yes']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/no device "ghost"/) });
    const noYes = await runCli(['devices', 'unpair', 'door-1', '--config', cfg]);
    expect(noYes).toMatchObject({ code: 2, stderr: expect.stringMatching(/add --yes to confirm/) });

    const agent = startCli(['run', '--config', cfg]);
    try {
      await agent.waitFor(/ready/);
      const before = fs.readFileSync(cfg, 'utf8');
      fs.writeFileSync(cfg, before + 'engagment: { windowDays: 30 }\n');
      const token = readApiToken(path.join(t.dir, 'data'));
      const r = await new AgentClient(`http://127.0.0.1:${apiPort}`, 'test', token).request('POST', 'api/reload', undefined);
      expect(r.status).toBe(400);
      expect((r.body as { error: string }).error).toMatch(/is invalid, nothing changed: engagment/);
      const noToken = await new AgentClient(`http://127.0.0.1:${apiPort}`, 'test').request('POST', 'api/reload', undefined);
      expect(noToken.status).toBe(401);
      const st = await new AgentClient(`http://127.0.0.1:${apiPort}`, 'test').status();
      expect(st.devices.map((x) => x.id)).toEqual(['door-1']);
      // SIGHUP takes the same path: refused and logged, the agent keeps running.
      agent.child.kill('SIGHUP');
      await agent.waitFor(/reload refused/);
      expect((await new AgentClient(`http://127.0.0.1:${apiPort}`, 'test').request('GET', 'api/status', undefined)).status).toBe(200);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
  }, 60_000);

  (process.getuid?.() === 0 ? it : it.skip)('run as root (sudo on a gateway): the config keeps its owner and mode, database files go back to the service user', async () => {
    const dataDir = path.join(t.dir, 'data');
    fs.mkdirSync(dataDir);
    fs.chownSync(cfg, 0, 4242);
    fs.chmodSync(cfg, 0o640);
    fs.chownSync(dataDir, 4343, 4343); // the service user's data directory
    const r = await runCli(['devices', 'pair', '--config', cfg, '--transport', 'serial', '--port', '/dev/null', '--id', 'scale-9', '--profile', 'home-a', '--grant', 'usage', '--yes', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const st = fs.statSync(cfg);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([0, 4242, 0o640]);
    const dbFiles = fs.readdirSync(dataDir).filter((f) => f.startsWith('edge-agent.db'));
    expect(dbFiles).toContain('edge-agent.db');
    for (const f of dbFiles) expect(fs.statSync(path.join(dataDir, f)).uid).toBe(4343);
    const u = await runCli(['devices', 'unpair', 'scale-9', '--config', cfg, '--yes', '--json']);
    expect(u.code).toBe(0);
    expect(fs.statSync(cfg).gid).toBe(4242);
    for (const f of fs.readdirSync(dataDir).filter((x) => x.startsWith('edge-agent.db'))) expect(fs.statSync(path.join(dataDir, f)).uid).toBe(4343);
  }, 60_000);

  (hasTmux ? it : it.skip)('pairs interactively in a real terminal, as a technician would (special categories need an explicit yes)', async () => {
    const pty = new PtyPair(t.dir);
    await pty.start();
    const term = new TmuxSession(`${process.execPath} ${BIN} devices pair --config ${cfg}; echo "EXIT=$?"; sleep 60`, { cwd: REPO });
    try {
      await term.waitFor(/Transport \[1\]: $/m);
      term.type('1');
      await term.waitFor(/Serial port.*: $/m);
      term.type('/dev/does-not-exist');
      await term.waitFor(/does-not-exist does not exist/);
      term.type(pty.gateway);
      await term.waitFor(/Device id.*: $/m);
      term.type('door-1');
      await term.waitFor(/"door-1" is already paired/);
      term.type('scale-2');
      await term.waitFor(/Household profile \[1\]: $/m);
      term.type('');
      await term.waitFor(/Categories to grant.*: $/m);
      term.type('usage,health');
      await term.waitFor(/"health" is a special category.*\(y\/N\).*: $/m);
      term.type('n');
      await term.waitFor(/campaign "coffee".*\(y\/N\).*: $/m);
      term.type('y');
      await term.waitFor(/Channels.*: $/m);
      term.type('push');
      const summary = await term.waitFor(/Go ahead\? \(Y\/n\).*: $/m);
      expect(summary).toMatch(/grant: scale-2 may collect usage$/m);
      expect(summary).not.toMatch(/may collect health/);
      expect(summary).toMatch(/grant: profile home-a takes part in campaign coffee/);
      term.type('y');
      const done = await term.waitFor(/EXIT=\d+/);
      expect(done).toMatch(/EXIT=0/);
      expect(done).toMatch(/paired scale-2: serial .*ttyUSB0 @ 115200, profile home-a/);
      expect(done).toMatch(/the agent is not running: it connects the device when it starts/);
    } finally {
      term.kill();
      await pty.stop();
    }
    expect(fs.readFileSync(cfg, 'utf8')).toMatch(/id: scale-2, transport: serial/);
    const show = await runCli(['consent', 'show', '--config', cfg, '--json']);
    const entries = (JSON.parse(show.stdout) as { entries: Array<{ scope: string; subject: string; target: string; granted: boolean }> }).entries;
    expect(entries.filter((e) => e.subject === 'scale-2' || e.subject === 'home-a').map((e) => `${e.scope}:${e.subject}:${e.target}:${e.granted}`).sort()).toEqual([
      'campaign:home-a:coffee:true',
      'channel:home-a:push:true',
      'device:scale-2:usage:true',
    ]);
  }, 60_000);
});
