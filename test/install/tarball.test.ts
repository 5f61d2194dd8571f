import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { changes, gatewayRoot, runInstaller } from './gateway-root';

const asRoot = process.getuid?.() === 0;
const describeAsRoot = asRoot ? describe : describe.skip;

/**
 * `npm pack` once for the suite. --ignore-scripts: its `prepare` would rebuild dist/ in this shared tree while
 * other suites run from it; the test run has built dist/ already, and what is checked here is what gets shipped.
 */
function pack(into: string): string {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], {
    cwd: REPO,
    encoding: 'utf8',
  });
  return path.join(into, (JSON.parse(out) as Array<{ filename: string }>)[0].filename);
}

/** The same package with another version in package.json, as the next release would be. */
function repackAs(tgz: string, version: string, work: string): string {
  const dir = path.join(work, `repack-${version}`);
  fs.mkdirSync(dir);
  execFileSync('tar', ['-xzf', tgz, '-C', dir]);
  const pj = path.join(dir, 'package', 'package.json');
  fs.writeFileSync(
    pj,
    JSON.stringify({ ...(JSON.parse(fs.readFileSync(pj, 'utf8')) as object), version }, null, 2) + '\n',
  );
  const out = path.join(work, `edge-agent-${version}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', dir, 'package']);
  return out;
}

describe('the npm pack tarball', () => {
  let work: ReturnType<typeof tempDir>;
  let tgz: string;
  let listing: string[];
  beforeAll(() => {
    work = tempDir('edge-agent-pack-');
    tgz = pack(work.dir);
    listing = execFileSync('tar', ['-tvzf', tgz], { encoding: 'utf8' }).trim().split('\n');
  });
  afterAll(() => work.cleanup());
  const has = (p: string): boolean => listing.some((l) => l.endsWith(` package/${p}`));

  it.each([
    'package.json',
    'README.md',
    'bin/edge-agent.js',
    'dist/agent/cli/main.js',
    'dist/agent/service/systemd-notifier.js',
    'config/example.yaml',
    'agent/api/panel/assets/index.html',
    'scripts/install-gateway',
    'scripts/systemd/edge-agent.service',
    'docs/install.md',
  ])('ships %s', (p) => {
    expect(has(p)).toBe(true);
  });

  it('ships the installer executable', () => {
    expect(listing.find((l) => l.endsWith(' package/scripts/install-gateway'))).toMatch(/^-rwxr-xr-x /);
  });

  it('ships no tests, TypeScript sources, source maps, dependencies or data', () => {
    const unwanted = listing.filter((l) => / package\/(test\/|node_modules\/|data\/)|\.ts$|\.map$/.test(l));
    expect(unwanted).toEqual([]);
  });

  describeAsRoot('install-gateway --from the tarball', () => {
    let root: ReturnType<typeof gatewayRoot>;
    const at = (p: string): string => path.join(root.dir, p);
    beforeAll(async () => {
      root = gatewayRoot();
      const res = await runInstaller(['--root', root.dir, '--no-build']);
      if (res.code !== 0) throw new Error(`install from the checkout failed: ${res.stderr}`);
    });
    afterAll(() => root.cleanup());

    it('the tarball of this checkout installs exactly what the checkout installed: nothing to change', async () => {
      const res = await runInstaller(['--root', root.dir, '--from', tgz]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(changes(res.stdout)).toEqual([]);
    });

    it('upgrades to a newer tarball: code replaced, dependencies reused (no network), config kept', async () => {
      const config = at('etc/edge-agent/config.yaml');
      const edited = fs.readFileSync(config, 'utf8').replace('level: info', 'level: debug');
      fs.writeFileSync(config, edited);
      const next = repackAs(tgz, '0.1.1-test.1', work.dir);

      const started = Date.now();
      const res = await runInstaller(['--root', root.dir, '--from', next]);
      console.log(`install-gateway --from ${path.basename(next)} (upgrade): ${Date.now() - started} ms`);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(changes(res.stdout)).toEqual([
        expect.stringMatching(/^replace \/opt\/edge-agent with edge-agent 0\.1\.1-test\.1 /),
      ]);
      expect(res.stdout).toContain('dependencies unchanged: reusing /opt/edge-agent/node_modules');
      expect(fs.readFileSync(config, 'utf8')).toBe(edited);

      const version = spawnSync(process.execPath, [at('opt/edge-agent/bin/edge-agent.js'), '--version'], {
        encoding: 'utf8',
        cwd: root.dir,
      });
      expect(version.stdout.trim()).toBe('0.1.1-test.1');
      const validate = spawnSync(
        process.execPath,
        [at('opt/edge-agent/bin/edge-agent.js'), 'config', 'validate', '--config', config],
        { encoding: 'utf8', cwd: root.dir },
      );
      expect(validate.status).toBe(0);
    });

    it('the installer shipped in the package works too, and finds nothing to change', async () => {
      const shipped = at('opt/edge-agent/scripts/install-gateway');
      const res = spawnSync(
        shipped,
        ['--root', root.dir, '--from', path.join(work.dir, 'edge-agent-0.1.1-test.1.tgz')],
        { encoding: 'utf8' },
      );
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(changes(res.stdout)).toEqual([]);
      expect(res.stdout).toMatch(/^nothing to change$/m);

      // Without --from it is not a checkout it could build: it says what to do instead.
      const bare = spawnSync(shipped, ['--root', root.dir], { encoding: 'utf8' });
      expect(bare.status).toBe(1);
      expect(bare.stderr.trim()).toBe(
        `install-gateway: ${at('opt/edge-agent')} is an installed package, not a checkout — pass --from FILE.tgz to upgrade (or --uninstall)`,
      );
    });
  });
});
