import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';
import { freePort } from '../support/free-port';
import { tempDir } from '../support/temp-dir';
import { changes, INSTALLER } from './gateway-root';
import { NotifyReceiver } from './notify-receiver';

/**
 * install-gateway without --root, as on a gateway with systemd running, inside a private mount namespace: /etc
 * (a copy of this machine's), /opt, /usr/local/bin and /var/lib are temp directories bound over the real ones,
 * so useradd, chown and the real paths are exercised and the machine is left untouched. systemctl is
 * test/install/fake-bin/systemctl (there is no systemd here); everything else is real.
 */
const FAKE_BIN = path.join(__dirname, 'fake-bin');
const IN_NAMESPACE = `
set -euo pipefail
t=$1; shift
mount --bind "$t/etc" /etc
mount --bind "$t/opt" /opt
mount --bind "$t/usr-local-bin" /usr/local/bin
mount --bind "$t/var-lib" /var/lib
export PATH="${FAKE_BIN}:$PATH" FAKE_SYSTEMD_STATE="$t/systemd"
exec "$@"
`;

const canUnshare =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status === 0;
if (!canUnshare)
  console.warn('test/install: live-systemd tests need root and mount namespaces (unshare); skipped');
const describeIfNamespaces = canUnshare ? describe : describe.skip;

describeIfNamespaces('install-gateway on a live system (mount namespace, fake systemctl)', () => {
  let t: ReturnType<typeof tempDir>;
  const inside = (cmd: string[], opts: { cwd?: string } = {}): SpawnSyncReturns<string> =>
    spawnSync(
      'unshare',
      ['--mount', '--propagation', 'private', 'bash', '-c', IN_NAMESPACE, 'ns', t.dir, ...cmd],
      {
        cwd: opts.cwd ?? REPO,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
  const install = (...args: string[]): SpawnSyncReturns<string> => inside([INSTALLER, '--no-build', ...args]);
  const calls = (): string[] => {
    const f = path.join(t.dir, 'systemd', 'calls');
    const all = fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n') : [];
    fs.rmSync(f, { force: true });
    // Queries change nothing; the test is about what gets changed, in which order.
    return all.filter((c) => !/^(is-system-running|is-active)/.test(c));
  };
  const host = (p: string): string => {
    for (const [prefix, dir] of [
      ['/etc/', 'etc/'],
      ['/opt/', 'opt/'],
      ['/usr/local/bin/', 'usr-local-bin/'],
      ['/var/lib/', 'var-lib/'],
    ]) {
      if (p.startsWith(prefix)) return path.join(t.dir, dir + p.slice(prefix.length));
    }
    throw new Error(`${p} is not inside the namespace's bound directories`);
  };

  beforeAll(() => {
    t = tempDir('edge-agent-live-');
    fs.chmodSync(t.dir, 0o711); // the service user must reach the notify socket below
    execFileSync('cp', ['-a', '/etc', path.join(t.dir, 'etc')]);
    for (const d of ['opt', 'usr-local-bin', 'var-lib', 'systemd']) fs.mkdirSync(path.join(t.dir, d));
  });
  afterAll(() => t.cleanup());

  it('first install: creates everything, then daemon-reload, enable and start, in that order', () => {
    const res = install();
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const done = changes(res.stdout);
    expect(done).toContainEqual(expect.stringMatching(/^create system user edge-agent/));
    expect(done.slice(-3)).toEqual([
      'reload systemd (systemctl daemon-reload)',
      'enable edge-agent.service (systemctl enable)',
      'start edge-agent.service',
    ]);
    expect(res.stdout).not.toMatch(/systemd is not running/);
    expect(calls()).toEqual([
      'daemon-reload',
      'enable --quiet edge-agent.service',
      'start edge-agent.service',
    ]);
    expect(fs.readFileSync(host('/etc/passwd'), 'utf8')).toMatch(
      /^edge-agent:x:\d+:\d+:[^:]*:\/var\/lib\/edge-agent:\/usr\/sbin\/nologin$/m,
    );
    expect(fs.readlinkSync(host('/etc/systemd/system/multi-user.target.wants/edge-agent.service'))).toBe(
      '/etc/systemd/system/edge-agent.service',
    );
  });

  it('a second run touches neither files nor systemd', () => {
    const res = install();
    expect(res.status).toBe(0);
    expect(changes(res.stdout)).toEqual([]);
    expect(calls()).toEqual([]);
  });

  it('new code restarts the running service; a changed unit is reloaded first', () => {
    fs.writeFileSync(host('/opt/edge-agent/.install-manifest'), 'an older version\n');
    const code = install();
    expect(code.status).toBe(0);
    expect(changes(code.stdout)).toEqual([
      expect.stringMatching(/^replace \/opt\/edge-agent with edge-agent /),
      'restart edge-agent.service (new code, CLI or unit)',
    ]);
    expect(calls()).toEqual(['restart edge-agent.service']);

    fs.appendFileSync(
      host('/etc/systemd/system/edge-agent.service'),
      '# a local edit that belongs in a drop-in\n',
    );
    const unit = install();
    expect(changes(unit.stdout)).toEqual([
      'update /etc/systemd/system/edge-agent.service',
      'reload systemd (systemctl daemon-reload)',
      'restart edge-agent.service (new code, CLI or unit)',
    ]);
    expect(calls()).toEqual(['daemon-reload', 'restart edge-agent.service']);
  });

  it('a stopped service is started again', () => {
    fs.rmSync(path.join(t.dir, 'systemd', 'active-edge-agent.service'));
    const res = install();
    expect(changes(res.stdout)).toEqual(['start edge-agent.service']);
    expect(calls()).toEqual(['start edge-agent.service']);
  });

  it('the installed CLI, run as root, runs as the service user: what it writes in the data dir is the service’s', () => {
    const version = inside(['/usr/local/bin/edge-agent', '--version'], { cwd: '/' });
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // With the agent not running, a grant goes straight into the database in /var/lib/edge-agent.
    const grant = inside(
      [
        '/usr/local/bin/edge-agent',
        'consent',
        'grant',
        '--device',
        'scale-1',
        '--category',
        'usage',
        '--json',
      ],
      {
        cwd: '/',
      },
    );
    expect(grant.stderr).toBe('');
    expect(grant.status).toBe(0);
    expect(JSON.parse(grant.stdout)).toMatchObject({ ok: true, via: 'database' });
    const db = fs.readdirSync(host('/var/lib/edge-agent')).filter((f) => f.startsWith('edge-agent.db'));
    expect(db.length).toBeGreaterThan(0);
    const uid = Number(/^edge-agent:x:(\d+):/m.exec(fs.readFileSync(host('/etc/passwd'), 'utf8'))![1]);
    for (const f of db) expect(fs.statSync(path.join(host('/var/lib/edge-agent'), f)).uid).toBe(uid);
  });

  it('the service as the unit runs it (user, environment, wrapper, installed config) sends READY=1', async () => {
    // Environment= lines of the installed unit, exactly; the API moved to a free port so parallel suites do not clash.
    const unitText = fs.readFileSync(host('/etc/systemd/system/edge-agent.service'), 'utf8');
    const unitEnv = [...unitText.matchAll(/^Environment=(.*)$/gm)].map((m) => m[1]);
    // The installed example config as it is, BLE device included: with no adapter and no system D-Bus here the BLE
    // driver reports 'waiting for the Bluetooth adapter' and the agent still becomes ready.
    expect(unitEnv).toContain('EDGE_AGENT_GATEWAY_DATA_DIR=/var/lib/edge-agent');
    const socketPath = path.join(t.dir, 'notify.sock');
    const receiver = await NotifyReceiver.start(socketPath);
    fs.chmodSync(socketPath, 0o777);
    const apiPort = await freePort();
    const service = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', 'bash', '-c', IN_NAMESPACE, 'ns', t.dir]
        .concat([
          'runuser',
          '-u',
          'edge-agent',
          '--',
          'env',
          '-i',
          'PATH=/usr/bin:/bin',
          `NOTIFY_SOCKET=${socketPath}`,
        ])
        .concat(['WATCHDOG_USEC=400000', ...unitEnv, `EDGE_AGENT_API_LISTEN=127.0.0.1:${apiPort}`])
        .concat(['/usr/local/bin/edge-agent', 'run']),
      { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    service.stdout.on('data', (d: Buffer) => (log += d.toString()));
    service.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const ready = await receiver.waitFor(
        (n) => n.assignments.includes('READY=1'),
        `READY=1 (log: ${log})`,
        20_000,
      );
      expect(ready.assignments).toContainEqual(
        expect.stringMatching(/^STATUS=running: gateway home-gw-01, 3 devices, /),
      );
      await receiver.waitFor((n) => n.assignments.includes('WATCHDOG=1'), 'WATCHDOG=1');
      expect((await fetch(`http://127.0.0.1:${apiPort}/api/status`)).status).toBe(200);
      expect(log).toMatch(/"msg":"ready"/);
    } finally {
      service.kill('SIGTERM');
      await new Promise((r) => service.on('close', r));
      receiver.stop();
    }
  }, 60_000); // the service's cold start (20 s) and its first watchdog ping (15 s) each get their own wait

  it('--uninstall: stop, disable, remove the unit, daemon-reload, remove CLI and code; config and data stay', () => {
    const res = install('--uninstall');
    expect(res.status).toBe(0);
    expect(changes(res.stdout)).toEqual([
      'stop edge-agent.service',
      'disable edge-agent.service',
      'remove /etc/systemd/system/edge-agent.service',
      'reload systemd (systemctl daemon-reload)',
      'remove /usr/local/bin/edge-agent',
      'remove /opt/edge-agent',
    ]);
    expect(calls()).toEqual([
      'stop edge-agent.service',
      'disable --quiet edge-agent.service',
      'daemon-reload',
    ]);
    expect(fs.existsSync(host('/etc/edge-agent/config.yaml'))).toBe(true);
    expect(fs.existsSync(host('/var/lib/edge-agent'))).toBe(true);
    expect(fs.existsSync(host('/etc/systemd/system/multi-user.target.wants/edge-agent.service'))).toBe(false);
  });
});
