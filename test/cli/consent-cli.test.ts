import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runCli, startCli } from '../support/run-cli';
import { freePort } from '../support/free-port';
import { tempDir } from '../support/temp-dir';

/** A household config (the demo's devices and campaigns) with its own data dir, API port and a dead uplink. */
function writeConfig(dir: string, apiPort: number): string {
  const demo = fs.readFileSync(path.join(REPO, 'config', 'demo.yaml'), 'utf8');
  const text = demo
    .replace(/dataDir: .*/, `dataDir: ${path.join(dir, 'data')}`)
    .replace(/listen: "127\.0\.0\.1:8787"/, `listen: "127.0.0.1:${apiPort}"`)
    .replace(/url: "mqtt:\/\/127\.0\.0\.1:18830"/, 'url: "mqtt://127.0.0.1:9"') // offline: nothing listens there
    .replace(/ratePerMin: \d+/g, 'ratePerMin: 120');
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

const countRows = (table: 'events' | 'outcome_events') => (db: string, device: string): number => {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare(`SELECT count(*) AS n FROM ${table} WHERE device = ?`).get(device) as { n: number }).n;
  } finally {
    d.close();
  }
};
const countEvents = countRows('events');
const countOutcomeEvents = countRows('outcome_events');

describe('edge-agent consent (CLI, real agent, real SQLite file)', () => {
  let t: ReturnType<typeof tempDir>;
  let cfg: string;
  let apiPort: number;
  beforeEach(async () => {
    t = tempDir();
    apiPort = await freePort();
    cfg = writeConfig(t.dir, apiPort);
  });
  afterEach(() => t.cleanup());

  it('withdrawing presence on a running, offline agent stops storage at once and reports the purge', async () => {
    const agent = startCli(['run', '--config', cfg]);
    try {
      await agent.waitFor(/"ready"|ready/);
      const db = path.join(t.dir, 'data', 'edge-agent.db');
      // presence starts/ends are recorded as outcome events (home-a consented to its campaigns): the withdrawal erases them
      for (let i = 0; i < 40 && (countEvents(db, 'presence-1') < 2 || countOutcomeEvents(db, 'presence-1') < 1); i++) await new Promise((r) => setTimeout(r, 250));
      expect(countEvents(db, 'presence-1')).toBeGreaterThanOrEqual(2);
      const outcomeRows = countOutcomeEvents(db, 'presence-1');
      expect(outcomeRows).toBeGreaterThanOrEqual(1);

      const res = await runCli(['consent', 'revoke', '--config', cfg, '--device', 'presence-1', '--category', 'presence', '--json']);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const out = JSON.parse(res.stdout) as { via: string; entry: { seq: number; granted: boolean }; purged: { outbox: number; engagement: number } };
      expect(out.via).toBe('agent');
      expect(out.entry.granted).toBe(false);
      // every outcome row of the device, and any that arrived since they were counted
      expect(out.purged.engagement).toBeGreaterThanOrEqual(outcomeRows);
      expect(countOutcomeEvents(db, 'presence-1')).toBe(0);
      const frozen = countEvents(db, 'presence-1');
      await new Promise((r) => setTimeout(r, 2500)); // 120 events/min offered: several would have arrived
      expect(countEvents(db, 'presence-1')).toBe(frozen);

      const show = await runCli(['consent', 'show', '--config', cfg, '--json']);
      const entries = (JSON.parse(show.stdout) as { entries: Array<{ subject: string; target: string; granted: boolean }> }).entries;
      expect(entries).toContainEqual(expect.objectContaining({ subject: 'presence-1', target: 'presence', granted: false }));

      const status = JSON.parse((await runCli(['status', '--json', '--config', cfg])).stdout) as {
        consent: { optOutByDeviceType: Array<{ type: string; optedOut: number; rate: number }> };
        upstream: { connected: boolean };
      };
      expect(status.upstream.connected).toBe(false);
      expect(status.consent.optOutByDeviceType).toContainEqual(expect.objectContaining({ type: 'presence', optedOut: 1, rate: 1 }));
      const metrics = await fetch(`http://127.0.0.1:${apiPort}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/edge_agent_consent_opt_out_rate\{type="presence"\} 1/);

      const human = await runCli(['consent', 'revoke', '--config', cfg, '--profile', 'home-a', '--campaign', 'coffee-reorder']);
      expect(human.stdout).toMatch(/^withdrawn: profile home-a in campaign coffee-reorder — erased \d+ queued signals, \d+ engagement events \(ledger entry #\d+\)$/m);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
    const verify = await runCli(['consent', 'verify', '--config', cfg]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/consent ledger OK: \d+ entries/);
    const exp = await runCli(['consent', 'export', '--config', cfg, '--json']);
    const receipts = (JSON.parse(exp.stdout) as { receipts: Array<{ state: string; piiCategory: string | null; collectionMethod: string }> }).receipts;
    expect(receipts).toContainEqual(expect.objectContaining({ state: 'withdrawn', piiCategory: 'presence', collectionMethod: 'cli' }));
    expect(receipts.find((r) => r.piiCategory === 'health')).toMatchObject({ state: 'granted', sensitive: true });
  }, 60_000);

  it.each([
    [['--device', 'ghost', '--category', 'usage'], /unknown device "ghost"/],
    [['--device', 'scale-1', '--category', 'mood'], /unknown category "mood"/],
    [['--profile', 'home-a', '--campaign', 'nope'], /unknown campaign "nope"/],
    [['--profile', 'home-a', '--channel', 'fax'], /unknown channel "fax"/],
    [['--profile', 'nobody', '--channel', 'sms'], /unknown profile "nobody"/],
    [['--profile', 'home-a'], /exactly one of --campaign or --channel/],
    [[], /say what the consent is for/],
  ])('grant %j is a usage error (exit 2) and leaves the ledger unchanged', async (args, re) => {
    expect((await runCli(['consent', 'grant', '--config', cfg, '--device', 'scale-1', '--category', 'usage'])).code).toBe(0);
    const before = (await runCli(['consent', 'export', '--config', cfg, '--json'])).stdout;
    const res = await runCli(['consent', 'grant', '--config', cfg, ...args]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(re);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    const after = (await runCli(['consent', 'export', '--config', cfg, '--json'])).stdout;
    expect(JSON.parse(after).receipts).toEqual(JSON.parse(before).receipts);
  });

  it.each([
    ['an edited entry', 'UPDATE consent_ledger SET granted = 1 - granted WHERE seq = 2', /BROKEN at entry 2: entry 2 was edited/],
    ['a removed entry', 'DELETE FROM consent_ledger WHERE seq = 2', /BROKEN at entry 2: entry 2 is missing/],
    [
      'two entries reordered',
      'UPDATE consent_ledger SET seq = -1 WHERE seq = 2; UPDATE consent_ledger SET seq = 2 WHERE seq = 3; UPDATE consent_ledger SET seq = 3 WHERE seq = -1',
      /BROKEN at entry 2: entry 3 was moved to position 2 \(reordered\)/,
    ],
    ['an edited purge count', 'UPDATE consent_ledger SET purged_outbox = purged_outbox + 1 WHERE seq = 3', /BROKEN at entry 3: entry 3 was edited/],
  ])('consent verify detects %s in the SQLite file (exit 1)', async (_name, sql, re) => {
    for (const args of [
      ['grant', '--device', 'scale-1', '--category', 'usage'],
      ['grant', '--profile', 'home-a', '--channel', 'sms'],
      ['revoke', '--device', 'scale-1', '--category', 'usage'],
    ]) {
      expect((await runCli(['consent', ...args, '--config', cfg])).code).toBe(0);
    }
    expect((await runCli(['consent', 'verify', '--config', cfg])).code).toBe(0);
    const db = new Database(path.join(t.dir, 'data', 'edge-agent.db'));
    db.exec(sql);
    db.close();
    const res = await runCli(['consent', 'verify', '--config', cfg]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(re);
    const json = await runCli(['consent', 'verify', '--config', cfg, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });
  });

  it('consent export without --json is a readable record, and --out writes a file', async () => {
    await runCli(['consent', 'grant', '--config', cfg, '--device', 'wearable-1', '--category', 'health']);
    await runCli(['consent', 'revoke', '--config', cfg, '--device', 'wearable-1', '--category', 'health', '--erase']);
    const res = await runCli(['consent', 'export', '--config', cfg]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Consent record of gateway demo-gw \(2 entries, ledger verified\)/);
    expect(res.stdout).toMatch(/#2 .* WITHDRAWN device wearable-1 may collect health data \(special category\) \[via cli, policy v1\] — erased 0 queued signals, 0 engagement events, 0 raw rows/);
    const out = path.join(t.dir, 'receipts.json');
    expect((await runCli(['consent', 'export', '--config', cfg, '--json', '--out', out])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).receipts).toHaveLength(2);
  });
});
