import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { judgeNodeVersion } from '../../agent/doctor/system-checks';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { ptyPerTest } from '../support/pty-per-test';
import { freePort } from '../support/free-port';
import { runCli, startCli } from '../support/run-cli';

interface Report {
  ok: boolean;
  counts: Record<string, number>;
  checks: Array<{ id: string; title: string; status: string; detail: string; fix?: string }>;
}

interface Setup {
  dataDir: string;
  apiPort: number;
  port?: string;
  upstream?: string;
  extra?: string;
  storageMaxBytes?: number;
}

function writeConfig(dir: string, s: Setup): string {
  const lines = [
    `gateway: { id: doctor-gw, dataDir: ${JSON.stringify(s.dataDir)} }`,
    `api: { listen: "127.0.0.1:${s.apiPort}" }`,
    ...(s.upstream ? [`upstream: { url: "${s.upstream}", profile: generic, baseTopic: edge }`] : []),
    'devices:',
    `  - { id: scale-1, transport: serial, port: ${JSON.stringify(s.port ?? path.join(dir, 'ttyUSB0'))}, baud: 115200, profile: home-a }`,
    'campaigns:',
    '  - { id: coffee, qualify: { event: dispense }, value: 72, threshold: 30, cooldown: 7d, channels: [push] }',
    'consent:',
    '  grants:',
    '    - { device: scale-1, category: usage }',
    '    - { profile: home-a, campaign: coffee }',
    ...(s.storageMaxBytes ? [`storage: { maxBytes: ${s.storageMaxBytes} }`] : []),
    ...(s.extra ? [s.extra] : []),
  ];
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function doctor(cfg: string): Promise<{ code: number | null; report: Report; text: string }> {
  const json = await runCli(['doctor', '--config', cfg, '--json'], { timeoutMs: 30_000 });
  const text = await runCli(['doctor', '--config', cfg], { timeoutMs: 30_000 });
  expect(text.code).toBe(json.code);
  return { code: json.code, report: JSON.parse(json.stdout) as Report, text: text.stdout };
}

const check = (r: Report, id: string) => {
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no ${id} check in ${JSON.stringify(r.checks.map((x) => x.id))}`);
  return c;
};

/** Runs the agent once so the data dir holds a real database (ledger seeded from the config's grants). */
async function runAgentOnce(cfg: string): Promise<void> {
  const agent = startCli(['run', '--config', cfg]);
  await agent.waitFor(/ready/);
  agent.child.kill('SIGTERM');
  await agent.exit;
}

describe('judgeNodeVersion', () => {
  it.each([
    ['20.20.2', 'pass'],
    ['22.1.0', 'pass'],
    ['18.19.0', 'fail'],
    ['16.0.0', 'fail'],
  ])('Node %s → %s', (v, status) => {
    const r = judgeNodeVersion(v);
    expect(r.status).toBe(status);
    if (status === 'fail') expect(r.fix).toMatch(/install Node 20/);
  });
});

(hasMosquitto ? describe : describe.skip)('edge-agent doctor against healthy and deliberately broken setups', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = new Mosquitto(await freePort());
    await broker.start();
  });
  afterAll(async () => {
    await broker.stop();
  });
  const t = ptyPerTest();

  it('a healthy gateway: every line passes (or is skipped with a reason), exit 0, one screen', async () => {
    const cfg = writeConfig(t.dir, { dataDir: path.join(t.dir, 'data'), apiPort: await freePort(), port: t.pty.gateway, upstream: broker.url });
    const agent = startCli(['run', '--config', cfg]);
    try {
      await agent.waitFor(/ready/);
      const { code, report, text } = await doctor(cfg);
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(code).toBe(0);
      expect(check(report, 'config').detail).toMatch(/valid \(1 devices, 1 campaigns\)/);
      expect(check(report, 'database')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/integrity ok \(wal\)/) });
      expect(check(report, 'ledger')).toMatchObject({ status: 'pass', detail: '2 entries, hash chain intact' });
      expect(check(report, 'serial')).toMatchObject({ status: 'pass', title: 'serial scale-1' });
      expect(check(report, 'upstream')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/accepts the configured credentials \(anonymous, no TLS/) });
      expect(check(report, 'bluetooth')).toMatchObject({ status: 'skip', detail: 'no BLE devices configured' });
      expect(check(report, 'agent').detail).toMatch(/^running \d+ s/);
      expect(text.split('\n').length).toBeLessThan(30);
      expect(text).toMatch(/^PASS {2}consent ledger {2,}2 entries, hash chain intact$/m);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
  }, 60_000);

  it('bad config: says which line is wrong, and the checks that do not need it still run', async () => {
    const cfg = writeConfig(t.dir, { dataDir: path.join(t.dir, 'data'), apiPort: await freePort(), extra: 'engagment: { windowDays: 30 }' });
    const { code, report, text } = await doctor(cfg);
    expect(code).toBe(1);
    expect(check(report, 'config')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/engagment.*engagement/) });
    expect(check(report, 'config').fix).toMatch(/edge-agent config validate --config/);
    expect(check(report, 'node').status).toBe('pass');
    expect(check(report, 'serial')).toMatchObject({ status: 'skip', detail: 'no valid config' });
    expect(text).toMatch(/^FAIL {2}config/m);
    expect(text).toMatch(/→ fix it, then check with/);
  }, 60_000);

  it('missing serial port, unreachable broker, wrong credentials: each named with its fix', async () => {
    const dead = await freePort();
    const cfg = writeConfig(t.dir, { dataDir: path.join(t.dir, 'data'), apiPort: await freePort(), port: path.join(t.dir, 'ttyUSB7'), upstream: `mqtt://127.0.0.1:${dead}` });
    const { code, report } = await doctor(cfg);
    expect(code).toBe(1);
    expect(check(report, 'serial')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/ttyUSB7 is missing/), fix: expect.stringMatching(/by-id/) });
    expect(check(report, 'upstream')).toMatchObject({ status: 'fail', detail: `broker unreachable: connection refused at mqtt://127.0.0.1:${dead}` });
    expect(check(report, 'agent')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/not running/) });

    const secured = new Mosquitto(await freePort(), { user: { name: 'gw', password: 'right' } });
    await secured.start();
    try {
      const wrong = writeConfig(t.dir, { dataDir: path.join(t.dir, 'data'), apiPort: await freePort(), port: t.pty.gateway, upstream: secured.url, extra: '' });
      fs.writeFileSync(wrong, fs.readFileSync(wrong, 'utf8').replace(`url: "${secured.url}"`, `url: "${secured.url}", username: gw, password: wrong`));
      const r = await doctor(wrong);
      expect(check(r.report, 'upstream')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refused this client \(not authorized: a wrong username\/password/) });
      expect(check(r.report, 'serial').status).toBe('pass');
      fs.writeFileSync(wrong, fs.readFileSync(wrong, 'utf8').replace('password: wrong', 'password: right'));
      const ok = await doctor(wrong);
      expect(check(ok.report, 'upstream')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/user gw/) });
    } finally {
      await secured.stop();
    }
  }, 60_000);

  it('a tampered consent ledger and a clock behind recorded data are failures', async () => {
    const dataDir = path.join(t.dir, 'data');
    const cfg = writeConfig(t.dir, { dataDir, apiPort: await freePort(), port: t.pty.gateway });
    await runAgentOnce(cfg);
    expect(check((await doctor(cfg)).report, 'ledger').status).toBe('pass');
    const db = new Database(path.join(dataDir, 'edge-agent.db'));
    db.prepare('UPDATE consent_ledger SET granted = 0 WHERE seq = 2').run();
    // An event stored "in the future": what the data looks like after the clock jumped back at a power cut.
    db.prepare("INSERT INTO events (device, name, category, t) VALUES ('scale-1', 'dispense', 'usage', ?)").run(Date.now() + 86_400_000);
    db.close();
    const { code, report } = await doctor(cfg);
    expect(code).toBe(1);
    expect(check(report, 'ledger')).toMatchObject({ status: 'fail', detail: 'BROKEN at entry 2: entry 2 was edited (its hash does not match its contents)' });
    expect(check(report, 'clock')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/behind data already recorded/), fix: expect.stringMatching(/timedatectl set-ntp true/) });
    expect(check(report, 'database').status).toBe('pass');
  }, 60_000);

  it('storage over its budget and a full disk', async () => {
    const dataDir = path.join(t.dir, 'data');
    const cfg = writeConfig(t.dir, { dataDir, apiPort: await freePort(), port: t.pty.gateway, storageMaxBytes: 1048576 });
    await runAgentOnce(cfg);
    const db = new Database(path.join(dataDir, 'edge-agent.db'));
    const insert = db.prepare("INSERT INTO outbox (signal_id, kind, payload, bytes, created_at) VALUES (?, 'receipt', ?, 1000, ?)");
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`backlog-${i}`, 'x'.repeat(1000), Date.now());
    })();
    db.close();
    expect(check((await doctor(cfg)).report, 'storage')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/full — frames are refused/) });

    // A real full filesystem: a 2 MiB tmpfs as the data directory, filled to the last byte.
    const mnt = path.join(t.dir, 'small');
    fs.mkdirSync(mnt);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(mount.stderr).toBe(''); // needs root, as on the CI machine and a gateway's installer
    try {
      const full = writeConfig(t.dir, { dataDir: mnt, apiPort: await freePort(), port: t.pty.gateway });
      const fd = fs.openSync(path.join(mnt, 'filler'), 'w');
      try {
        const chunk = Buffer.alloc(64 * 1024);
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        fs.closeSync(fd);
      }
      const { code, report } = await doctor(full);
      expect(code).toBe(1);
      expect(check(report, 'data-dir')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/disk is full/) });
      fs.rmSync(path.join(mnt, 'filler'));
      // Space is back, but 2 MiB is still below the floor a gateway needs: named as such, not as a full disk.
      expect(check((await doctor(full)).report, 'data-dir')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/MiB free of 2\.0 MiB — nearly full/) });
    } finally {
      spawnSync('umount', [mnt]);
    }
  }, 90_000);
});
