import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { loadConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import type { OutcomesDocument } from '../../agent/outcomes';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE, dispense, allAnswered } from '../support/device-link';
import { freePort } from '../support/free-port';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const DAY = 86_400_000;
const ev = (seq: number, e: string): DeviceFrame => ({ type: 'event', seq, body: { e, ch: 2 } });

const yaml = (
  dataDir: string,
  port: number,
): string => `gateway: { id: gw-report, dataDir: ${JSON.stringify(dataDir)} }
api: { listen: "127.0.0.1:${port}" }
devices:
  - { id: scale-a, transport: sim, model: kitchen-scale, profile: home-a }
  - { id: scale-b, transport: sim, model: kitchen-scale, profile: home-b }
campaigns:
  - id: coffee
    qualify: { event: dispense }
    value: 50
    threshold: 30
    channels: [push]
    conversion: { events: [reorder], attributionWindow: 7d }
  - { id: tea, qualify: { event: brew }, value: 50, threshold: 30, channels: [push] }
engagement: { signalIntervalS: 0 }
consent:
  grants:
    - { device: scale-a, category: usage }
    - { device: scale-b, category: usage }
    - { profile: home-a, campaign: coffee }
    - { profile: home-b, campaign: coffee }
    - { profile: home-a, channel: push }
    - { profile: home-b, channel: push }
log: { level: error, file: false }
`;

type Report = OutcomesDocument & { source: string };

describe('edge-agent report (built CLI)', () => {
  let t: ReturnType<typeof tempDir>;
  let file: string;
  let agent: Agent | null = null;
  // two households trigger 3 days ago; home-a reorders 1.5 days later: one conversion of two triggers
  let now = Date.now() - 3 * DAY;

  beforeAll(async () => {
    t = tempDir();
    file = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(file, yaml(path.join(t.dir, 'data'), await freePort()));
    const a = new Agent(loadConfig(file).config, { logger: silentLogger, drivers: [], clock: () => now });
    await a.start();
    agent = a;
    const la = new DeviceLink(a, 'scale-a');
    const lb = new DeviceLink(a, 'scale-b');
    la.send(HELLO_SCALE('scale-a'));
    lb.send(HELLO_SCALE('scale-b'));
    la.send(dispense(1));
    lb.send(dispense(1));
    await waitUntil('two triggers', () => a.status().outcomes!.campaigns[0].triggers === 2);
    now += 1.5 * DAY;
    la.send(ev(2, 'reorder'));
    await allAnswered(a);
    now = Date.now();
  });
  afterAll(async () => {
    await agent?.stop();
    t.cleanup();
  });

  it('asks the running agent', async () => {
    const r = await runCli(['report', '--config', file, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Report;
    expect(doc.source).toBe('agent');
    expect(doc.campaigns.find((c) => c.campaign === 'coffee')).toMatchObject({
      triggers: 2,
      converted: 1,
      conversionRate: 0.5,
      purchases: 1,
    });
    const human = await runCli(['report', '--config', file, '--campaign', 'coffee']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/from the running agent/);
    expect(human.stdout).toMatch(/^coffee\s+2\s+2\s+1\s+50\.0%\s+1\s/m);
    expect(human.stdout).not.toMatch(/^tea/m);
  });

  it('reads the database read-only when the agent is not running; --since and --chart', async () => {
    await agent!.stop();
    agent = null;
    const r = await runCli(['report', '--config', file, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Report;
    expect(doc.source).toBe('database');
    expect(doc.campaigns.find((c) => c.campaign === 'coffee')).toMatchObject({
      triggers: 2,
      converted: 1,
      conversionRate: 0.5,
    });
    expect(doc.optOutByDeviceType).toEqual([{ type: 'kitchen-scale', devices: 2, optedOut: 0, rate: 0 }]);

    // since 2 days ago: the triggers are older, only the reorder falls inside
    const since = await runCli([
      'report',
      '--config',
      file,
      '--since',
      '2d',
      '--campaign',
      'coffee',
      '--json',
    ]);
    expect(since.code).toBe(0);
    expect(JSON.parse(since.stdout)).toMatchObject({
      source: 'database',
      campaigns: [{ campaign: 'coffee', triggers: 0, converted: 0, purchases: 1 }],
    });

    const svg = path.join(t.dir, 'index.svg');
    const chart = await runCli(['report', '--config', file, '--campaign', 'coffee', '--chart', svg]);
    expect(chart.code).toBe(0);
    expect(chart.stderr).toMatch(/chart written to .*index\.svg \(2 series, \d+ samples\)/);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(text.match(/<polyline /g)).toHaveLength(2);
    expect(text).toContain('home-a · coffee');
    expect(text).toContain('threshold coffee 30');
    expect(text.match(/<circle /g)!.length).toBe(2); // one dot per trigger
  });

  it('usage errors exit 2 with one line', async () => {
    const bad = await runCli(['report', '--config', file, '--since', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'edge-agent: --since must be a duration ago (7d, 12h, 30m) or a date such as 2026-03-01, got "yesterday-ish"',
    );
    const unknown = await runCli(['report', '--config', file, '--campaign', 'latte']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown campaign "latte" \(one of: coffee, tea\)/);
  });
});
