import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';
import {
  changes,
  diff,
  gatewayRoot,
  idsIn,
  INSTALLER,
  membersOf,
  modeOf,
  ownerOf,
  runInstaller,
  snapshot,
} from './gateway-root';

// These run the installer for real (useradd, chown) inside a throwaway root, so they need root, as on the gateway.
const asRoot = process.getuid?.() === 0;
if (!asRoot)
  console.warn(
    'test/install: install-gateway tests need root (they create users inside a temp root); skipped',
  );
const describeAsRoot = asRoot ? describe : describe.skip;

const UNIT = path.join(REPO, 'scripts', 'systemd', 'edge-agent.service');
// --no-build: the suite runs against the dist/ the test run built; building here would race other work in the tree.
const FROM_CHECKOUT = ['--no-build'];

/** The unit as key → values (repeated keys collect), comments dropped. */
function unitEntries(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (kv) m.set(kv[1], [...(m.get(kv[1]) ?? []), kv[2]]);
  }
  return m;
}

describe('install-gateway usage', () => {
  it('--help lists the options and exits 0', async () => {
    const res = await runInstaller(['--help']);
    expect(res.code).toBe(0);
    for (const o of ['--from', '--uninstall', '--purge', '--dry-run', '--root'])
      expect(res.stdout).toContain(o);
  });

  it.each([
    [['--bogus'], /^install-gateway: unknown option --bogus \(see --help\)$/],
    [['--purge'], /^install-gateway: --purge only goes with --uninstall \(see --help\)$/],
    [['--root'], /^install-gateway: --root needs a directory \(see --help\)$/],
  ])('%j is a usage error: exit 2, one line', async (args, re) => {
    const res = await runInstaller(args);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toMatch(re);
  });

  it('--from a file that is not there says what to do', async () => {
    const res = await runInstaller(['--dry-run', '--from', '/nonexistent/edge-agent-0.1.0.tgz']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      'install-gateway: --from /nonexistent/edge-agent-0.1.0.tgz: no such file — make one with `npm pack` in a checkout',
    );
  });
});

describe('the systemd unit', () => {
  const unit = unitEntries(fs.readFileSync(UNIT, 'utf8'));
  it.each([
    ['Type', ['notify']],
    ['NotifyAccess', ['all']],
    ['Restart', ['always']],
    ['WatchdogSec', ['30']],
    ['User', ['edge-agent']],
    ['ExecStart', ['/usr/local/bin/edge-agent run']],
    ['ProtectSystem', ['strict']],
    ['ReadWritePaths', ['/var/lib/edge-agent']],
    ['CacheDirectory', ['edge-agent']],
    ['NoNewPrivileges', ['yes']],
    ['PrivateTmp', ['yes']],
    ['ProtectHome', ['yes']],
    ['ProtectKernelTunables', ['yes']],
    ['RestrictAddressFamilies', ['AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_BLUETOOTH']],
    ['DevicePolicy', ['closed']],
    ['DeviceAllow', ['char-ttyUSB rw', 'char-ttyACM rw']],
    ['CapabilityBoundingSet', ['']],
    ['SyslogIdentifier', ['edge-agent']],
    [
      'Environment',
      [
        'EDGE_AGENT_CONFIG=/etc/edge-agent/config.yaml',
        'EDGE_AGENT_GATEWAY_DATA_DIR=/var/lib/edge-agent',
        'NODE_ENV=production',
        'NODE_OPTIONS=--max-semi-space-size=1',
        'EDGE_V8_FLAGS=--no-opt',
        'NODE_COMPILE_CACHE=/var/cache/edge-agent',
      ],
    ],
  ])('%s=%j', (key, values) => {
    expect(unit.get(key)).toEqual(values);
  });

  it('RestartSec is set and keeps restarts under the default start limit (5 in 10 s)', () => {
    expect(Number(unit.get('RestartSec')?.[0])).toBeGreaterThan(2);
  });
});

describeAsRoot('install-gateway --root (a throwaway system root)', () => {
  let root: ReturnType<typeof gatewayRoot>;
  const at = (p: string): string => path.join(root.dir, p);
  let planned: string[] = [];
  beforeAll(() => {
    root = gatewayRoot();
  });
  afterAll(() => root.cleanup());

  it('--dry-run prints every change and changes nothing', async () => {
    const before = snapshot(root.dir);
    const res = await runInstaller(['--root', root.dir, '--dry-run', ...FROM_CHECKOUT]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(diff(before, snapshot(root.dir))).toEqual([]);
    planned = changes(res.stdout);
    const expected = [
      /^create system group bluetooth$/, // dialout already exists in the image
      /^create system user edge-agent \(groups dialout bluetooth/,
      /^create directory \/etc\/edge-agent \(0750 root:edge-agent\)$/,
      /^install \/etc\/edge-agent\/config\.yaml from config\/example\.yaml/,
      /^create directory \/var\/lib\/edge-agent \(0750 edge-agent:edge-agent\)$/,
      /^install \/opt\/edge-agent with edge-agent \d+\.\d+\.\d+/,
      /^install \/usr\/local\/bin\/edge-agent \(0755 root:root\)$/,
      /^install \/etc\/systemd\/system\/edge-agent\.service \(0644 root:root\)$/,
      /^enable edge-agent\.service/,
    ];
    for (const re of expected) expect(planned).toContainEqual(expect.stringMatching(re));
    expect(res.stdout).toMatch(/^dry run: \d+ changes would be made, nothing was changed$/m);
  });

  it('installs with the right owners and modes, exactly the changes the dry run announced', async () => {
    const started = Date.now();
    const res = await runInstaller(['--root', root.dir, ...FROM_CHECKOUT]);
    console.log(`install-gateway from the checkout: ${Date.now() - started} ms`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // The file count can differ: this is a live tree where other work adds files between the two runs.
    const sameShape = (cs: string[]): string[] => cs.map((c) => c.replace(/\(\d+ files/, '(N files'));
    expect(sameShape(changes(res.stdout))).toEqual(sameShape(planned));
    // No live systemd on a --root: it says what to run instead and still succeeds.
    expect(res.stdout).toMatch(/systemd is not running here .*nothing was started/);

    const { uid, gid } = idsIn(root.dir, 'edge-agent');
    const passwd = fs.readFileSync(at('etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^edge-agent:x:\d+:\d+:[^:]*:\/var\/lib\/edge-agent:\/usr\/sbin\/nologin$/m);
    expect(uid).toBeLessThan(1000); // a system user
    expect(membersOf(root.dir, 'dialout')).toContain('edge-agent');
    expect(membersOf(root.dir, 'bluetooth')).toContain('edge-agent');

    expect([modeOf(at('etc/edge-agent')), ownerOf(at('etc/edge-agent'))]).toEqual(['0750', `0:${gid}`]);
    expect([modeOf(at('etc/edge-agent/config.yaml')), ownerOf(at('etc/edge-agent/config.yaml'))]).toEqual([
      '0640',
      `0:${gid}`,
    ]);
    expect(fs.readFileSync(at('etc/edge-agent/config.yaml'), 'utf8')).toBe(
      fs.readFileSync(path.join(REPO, 'config', 'example.yaml'), 'utf8'),
    );
    expect([modeOf(at('var/lib/edge-agent')), ownerOf(at('var/lib/edge-agent'))]).toEqual([
      '0750',
      `${uid}:${gid}`,
    ]);

    expect(ownerOf(at('opt/edge-agent'))).toBe('0:0');
    for (const f of [
      'bin/edge-agent.js',
      'dist/agent/cli/main.js',
      'dist/agent/service/systemd-notifier.js',
      'config/example.yaml',
      'docs/install.md',
    ]) {
      expect(fs.existsSync(at(`opt/edge-agent/${f}`))).toBe(true);
    }
    expect(fs.existsSync(at('opt/edge-agent/node_modules/better-sqlite3'))).toBe(true);
    expect(fs.existsSync(at('opt/edge-agent/node_modules/typescript'))).toBe(false); // production dependencies only
    expect(fs.existsSync(at('opt/edge-agent/agent/cli/main.ts'))).toBe(false); // no TypeScript sources

    const wrapper = at('usr/local/bin/edge-agent');
    expect([modeOf(wrapper), ownerOf(wrapper)]).toEqual(['0755', '0:0']);
    expect(fs.readFileSync(wrapper, 'utf8')).toMatch(
      /^exec "\/[^"]*node" "\/opt\/edge-agent\/bin\/edge-agent\.js" "\$@"$/m,
    );

    const unit = at('etc/systemd/system/edge-agent.service');
    expect(modeOf(unit)).toBe('0644');
    expect(fs.readFileSync(unit, 'utf8')).toBe(fs.readFileSync(UNIT, 'utf8'));
    expect(fs.readlinkSync(at('etc/systemd/system/multi-user.target.wants/edge-agent.service'))).toBe(
      '/etc/systemd/system/edge-agent.service',
    );
  });

  it('the installed code runs on its own (its own node_modules) and accepts the installed config', () => {
    const res = spawnSync(
      process.execPath,
      [
        at('opt/edge-agent/bin/edge-agent.js'),
        'config',
        'validate',
        '--config',
        at('etc/edge-agent/config.yaml'),
      ],
      {
        cwd: root.dir,
        encoding: 'utf8',
      },
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/valid \(3 devices, 1 campaigns, gateway home-gw-01\)/);
  });

  it('systemd-analyze verify accepts the installed unit (ExecStart resolved inside the root), no warnings', () => {
    const res = spawnSync('systemd-analyze', ['verify', `--root=${root.dir}`, 'edge-agent.service'], {
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    // The same check fails when the ExecStart binary is missing: the verification is real.
    fs.renameSync(at('usr/local/bin/edge-agent'), at('usr/local/bin/edge-agent.away'));
    try {
      const broken = spawnSync('systemd-analyze', ['verify', `--root=${root.dir}`, 'edge-agent.service'], {
        encoding: 'utf8',
      });
      expect(broken.status).not.toBe(0);
      expect(broken.stderr).toMatch(/\/usr\/local\/bin\/edge-agent is not executable/);
    } finally {
      fs.renameSync(at('usr/local/bin/edge-agent.away'), at('usr/local/bin/edge-agent'));
    }
  });

  it('systemd-analyze security rates the sandbox "OK" or better', () => {
    const res = spawnSync(
      'systemd-analyze',
      ['security', '--offline=true', `--root=${root.dir}`, 'edge-agent.service'],
      { encoding: 'utf8' },
    );
    const level = /Overall exposure level for edge-agent\.service: ([\d.]+) (\w+)/.exec(
      res.stdout + res.stderr,
    );
    expect(level).not.toBeNull();
    expect(Number(level![1])).toBeLessThanOrEqual(4);
  });

  it('a second run reports nothing to change and changes nothing', async () => {
    const before = snapshot(root.dir);
    const res = await runInstaller(['--root', root.dir, ...FROM_CHECKOUT]);
    expect(res.code).toBe(0);
    expect(changes(res.stdout)).toEqual([]);
    expect(res.stdout).toMatch(/^nothing to change$/m);
    expect(diff(before, snapshot(root.dir))).toEqual([]);
  });

  it('repairs drifted modes and ownership, and only those', async () => {
    fs.chmodSync(at('var/lib/edge-agent'), 0o777);
    fs.chownSync(at('usr/local/bin/edge-agent'), 1234, 1234);
    // What `edge-agent …` run as root would leave behind without the wrapper's switch to the service user.
    fs.mkdirSync(at('var/lib/edge-agent/sub'));
    fs.writeFileSync(at('var/lib/edge-agent/sub/edge-agent.db-wal'), '');
    const res = await runInstaller(['--root', root.dir, ...FROM_CHECKOUT]);
    expect(res.code).toBe(0);
    expect(changes(res.stdout)).toEqual([
      expect.stringMatching(/^set \/var\/lib\/edge-agent to 0750 edge-agent:edge-agent \(was 777 /),
      'give 2 files under /var/lib/edge-agent back to edge-agent:edge-agent',
      'set /usr/local/bin/edge-agent to 0755 root:root',
    ]);
    const { uid, gid } = idsIn(root.dir, 'edge-agent');
    expect(ownerOf(at('var/lib/edge-agent/sub/edge-agent.db-wal'))).toBe(`${uid}:${gid}`);
    expect(modeOf(at('var/lib/edge-agent'))).toBe('0750');
    expect(ownerOf(at('usr/local/bin/edge-agent'))).toBe('0:0');
  });

  it('an upgrade replaces the code and keeps the edited config and the data', async () => {
    const config = at('etc/edge-agent/config.yaml');
    const edited = fs.readFileSync(config, 'utf8').replace('id: home-gw-01', 'id: kitchen-gw-7');
    fs.writeFileSync(config, edited);
    fs.writeFileSync(at('var/lib/edge-agent/edge-agent.db'), 'household data');
    const { uid, gid } = idsIn(root.dir, 'edge-agent');
    fs.chownSync(at('var/lib/edge-agent/edge-agent.db'), uid, gid); // as the service would have written it
    fs.writeFileSync(at('opt/edge-agent/left-over-from-old-version'), 'x');
    // What an older version's manifest looks like to the installer: different checksums.
    fs.writeFileSync(at('opt/edge-agent/.install-manifest'), 'an older version\n');

    const dry = await runInstaller(['--root', root.dir, '--dry-run', ...FROM_CHECKOUT]);
    expect(changes(dry.stdout)).toEqual([
      expect.stringMatching(/^replace \/opt\/edge-agent with edge-agent /),
    ]);

    const res = await runInstaller(['--root', root.dir, ...FROM_CHECKOUT]);
    expect(res.code).toBe(0);
    expect(changes(res.stdout)).toEqual([
      expect.stringMatching(/^replace \/opt\/edge-agent with edge-agent /),
    ]);
    expect(res.stdout).toContain('dependencies unchanged: reusing /opt/edge-agent/node_modules');
    expect(fs.existsSync(at('opt/edge-agent/left-over-from-old-version'))).toBe(false);
    expect(fs.readFileSync(config, 'utf8')).toBe(edited);
    expect(fs.readFileSync(at('var/lib/edge-agent/edge-agent.db'), 'utf8')).toBe('household data');
    expect(fs.readdirSync(at('opt')).sort()).toEqual(['edge-agent']); // no staging left behind
  });

  it('--uninstall removes unit, CLI and code, keeps config, data and user; a second one has nothing to do', async () => {
    const res = await runInstaller(['--root', root.dir, '--uninstall']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(changes(res.stdout)).toEqual([
      'remove /etc/systemd/system/multi-user.target.wants/edge-agent.service',
      'remove /etc/systemd/system/edge-agent.service',
      'remove /usr/local/bin/edge-agent',
      'remove /opt/edge-agent',
    ]);
    for (const gone of [
      'etc/systemd/system/edge-agent.service',
      'usr/local/bin/edge-agent',
      'opt/edge-agent',
    ]) {
      expect(fs.existsSync(at(gone))).toBe(false);
    }
    expect(fs.readFileSync(at('etc/edge-agent/config.yaml'), 'utf8')).toContain('id: kitchen-gw-7');
    expect(fs.readFileSync(at('var/lib/edge-agent/edge-agent.db'), 'utf8')).toBe('household data');
    expect(fs.readFileSync(at('etc/passwd'), 'utf8')).toMatch(/^edge-agent:/m);

    const again = await runInstaller(['--root', root.dir, '--uninstall']);
    expect(again.code).toBe(0);
    expect(changes(again.stdout)).toEqual([]);
    expect(again.stdout).toMatch(/^nothing to change$/m);
  });

  it('reinstalling after --uninstall keeps the config; --uninstall --purge then removes config, data and user', async () => {
    const re = await runInstaller(['--root', root.dir, ...FROM_CHECKOUT]);
    expect(re.code).toBe(0);
    expect(changes(re.stdout)).not.toContainEqual(expect.stringMatching(/config\.yaml/));
    expect(fs.readFileSync(at('etc/edge-agent/config.yaml'), 'utf8')).toContain('id: kitchen-gw-7');

    const dry = await runInstaller(['--root', root.dir, '--uninstall', '--purge', '--dry-run']);
    expect(changes(dry.stdout)).toEqual(
      expect.arrayContaining([
        'remove /etc/edge-agent',
        'remove /var/lib/edge-agent',
        'remove user edge-agent',
      ]),
    );
    expect(fs.existsSync(at('etc/edge-agent/config.yaml'))).toBe(true);

    const res = await runInstaller(['--root', root.dir, '--uninstall', '--purge']);
    expect(res.code).toBe(0);
    for (const gone of [
      'etc/edge-agent',
      'var/lib/edge-agent',
      'opt/edge-agent',
      'usr/local/bin/edge-agent',
    ]) {
      expect(fs.existsSync(at(gone))).toBe(false);
    }
    expect(fs.readFileSync(at('etc/passwd'), 'utf8')).not.toMatch(/^edge-agent:/m);
    expect(fs.readFileSync(at('etc/group'), 'utf8')).toMatch(/^dialout:/m); // shared system groups stay
  });
});

describe('install-gateway needs root to change anything', () => {
  const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
  (asRoot && nobody ? it : it.skip)('as another user it refuses with what to do (dry run allowed)', () => {
    // A copy the other user can reach: the checkout may sit below a directory only root may enter (a CI clone
    // in `mktemp -d`), where executing the script itself would fail with 126 before it could say anything.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-installer-'));
    fs.chmodSync(dir, 0o755);
    const installer = path.join(dir, 'install-gateway');
    fs.copyFileSync(INSTALLER, installer);
    fs.chmodSync(installer, 0o755);
    const res = spawnSync('setpriv', [`--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', installer, '--uninstall'], {
      encoding: 'utf8',
      cwd: '/',
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(res.status).toBe(1);
    expect(res.stderr.trim()).toMatch(
      /^install-gateway: must run as root — use sudo .*install-gateway --uninstall \(or --dry-run to see what it would do\)$/,
    );
  });
});
