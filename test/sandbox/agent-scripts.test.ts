import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { ConfigError, parseConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import { renderMetrics } from '../../agent/api/metrics';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE, allAnswered } from '../support/device-link';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

const T0 = Date.UTC(2026, 10, 1, 8);
const DAY = 86_400_000;

const yaml = (dataDir: string, campaigns: string): string => `
gateway: { id: gw-scripts, dataDir: ${dataDir} }
api: { listen: "127.0.0.1:0" }
devices:
  - { id: scale-1, transport: sim, model: kitchen-scale, profile: home-a }
campaigns:
${campaigns}
engagement: { signalIntervalS: 0 }
scripts: { timeout: 50ms, memoryMb: 8 }
consent:
  grants:
    - { device: scale-1, category: usage }
${[...campaigns.matchAll(/- id: (\S+)/g)].map((m) => `    - { profile: home-a, campaign: ${m[1]} }`).join('\n')}
    - { profile: home-a, channel: push }
`;

const CAMPAIGNS = `
  - id: big-pour
    qualify:
      event: dispense
      condition: { script: "return msg.v >= 10 && metadata.deviceType === 'kitchen-scale' && msgType === 'EVENT'" }
    value: 50
    threshold: 1000
    channels: [push]
  - id: scored
    qualify: { event: dispense }
    value: { scriptFile: value.js }
    threshold: 1000
    channels: [push]
  - id: flaky
    qualify:
      event: dispense
      condition: { script: "if (msg.v === 13) throw new Error('unlucky'); return true" }
    value: 10
    threshold: 1000
    channels: [push]
`;

const VALUE_JS = `// V grows with how often the household pours: 20 + 10 per earlier pour in the window, at most 100.
function score(features) {
  return Math.min(100, 20 + features.f * 10);
}`;

const pour = (seq: number, v: number): DeviceFrame => ({ type: 'event', seq, body: { e: 'dispense', ch: 2, v } });

describe('scripts in the agent (real config loader, real SQLite, real codec)', () => {
  let t: ReturnType<typeof tempDir>;
  let agent: Agent | null = null;
  let now = T0;
  const start = async (campaigns = CAMPAIGNS): Promise<Agent> => {
    fs.writeFileSync(path.join(t.dir, 'value.js'), VALUE_JS);
    const { config } = parseConfig(yaml(path.join(t.dir, 'data'), campaigns), { sourceName: 'config.yaml', baseDir: t.dir });
    agent = new Agent(config, { logger: silentLogger, drivers: [], api: false, clock: () => now });
    await agent.start();
    return agent;
  };
  const row = (campaign: string): { f: number; v: number | null } | undefined => agent?.status().engagement.find((e) => e.campaign === campaign);

  beforeEach(() => {
    t = tempDir();
    now = T0;
  });
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    t.cleanup();
  });

  it('a qualify condition decides which events count; a scripted V follows the events and survives a restart', async () => {
    await start();
    const l = new DeviceLink(agent!, 'scale-1');
    l.send(HELLO_SCALE());
    l.send(pour(1, 4), pour(2, 12), pour(3, 25));
    await allAnswered(agent as Agent);
    expect(row('big-pour')?.f).toBe(2); // 4 g is not a big pour
    expect(row('scored')).toMatchObject({ f: 3, v: 40 }); // scored before the third pour: 20 + 2 × 10
    const st = agent!.status();
    expect(st.scriptOutcomes).toMatchObject({ conditionRejected: 1, conditionFailed: 0, scoreFailed: 0 });
    expect(st.scripts.map((s) => [s.id, s.kind, s.state, s.calls])).toEqual([
      ['campaign/big-pour/condition', 'condition', 'ok', 3],
      ['campaign/scored/value', 'score', 'ok', 3],
      ['campaign/flaky/condition', 'condition', 'ok', 3],
    ]);
    await agent!.stop();
    now += DAY;
    await start();
    expect(row('scored')).toMatchObject({ f: 3, v: 40 });
    const l2 = new DeviceLink(agent!, 'scale-1');
    l2.send(HELLO_SCALE(), pour(1, 30));
    await allAnswered(agent as Agent);
    expect(row('scored')).toMatchObject({ f: 4, v: 50 });
  });

  it('a failing condition counts nothing, is disabled after 3 failures in a row, shows in status and metrics, and comes back after 60 s', async () => {
    await start();
    const l = new DeviceLink(agent!, 'scale-1');
    l.send(HELLO_SCALE(), pour(1, 13), pour(2, 13), pour(3, 13));
    await allAnswered(agent as Agent);
    expect(row('flaky')).toBeUndefined(); // fail closed: no event counted for the campaign
    expect(row('big-pour')?.f).toBe(3); // the other scripts and campaigns go on
    let s = agent!.status().scripts.find((x) => x.id === 'campaign/flaky/condition');
    expect(s).toMatchObject({ state: 'disabled', failuresInARow: 3, lastError: { kind: 'runtime', message: 'Error: unlucky' } });
    expect(s?.disabledUntil).toBe(new Date(T0 + 60_000).toISOString());
    // Disabled: even a good event does not run it.
    l.send(pour(4, 20));
    await allAnswered(agent as Agent);
    expect(row('flaky')).toBeUndefined();
    expect(agent!.status().scriptOutcomes.conditionFailed).toBe(4);
    now += 60_000;
    l.send(pour(5, 20));
    await allAnswered(agent as Agent);
    expect(row('flaky')?.f).toBe(1);
    s = agent!.status().scripts.find((x) => x.id === 'campaign/flaky/condition');
    expect(s).toMatchObject({ state: 'ok', failuresInARow: 0 });
  });

  it('a hostile V script cannot stop the pipeline: frames are still stored and acked', async () => {
    await start(`
  - id: scored
    qualify: { event: dispense }
    value: { script: "while (true) {}" }
    threshold: 1000
    channels: [push]
`);
    const l = new DeviceLink(agent!, 'scale-1');
    l.send(HELLO_SCALE(), pour(1, 5), pour(2, 6));
    await allAnswered(agent as Agent);
    expect(l.acks()).toEqual([1, 2]);
    expect(agent!.status().ingest.accepted).toBe(2);
    expect(row('scored')).toMatchObject({ f: 2, v: null }); // counted, but no V: the index stays blocked
    expect(agent!.status().scripts[0].lastError?.kind).toBe('timeout');
  });

  it('a condition stuck in one long native call is stopped from outside; the agent keeps serving', async () => {
    // (1n << 1000000n).toString() is one call of seconds inside QuickJS, which never polls the time limit in it:
    // the worker it runs in is stopped at 2x the limit and a fresh one compiles the scripts again.
    await start(`
  - id: stuck
    qualify:
      event: dispense
      condition: { script: "if (msg.v === 13) return (1n << 1000000n).toString().length > 0; return true" }
    value: 10
    threshold: 1000
    channels: [push]
  - id: big-pour
    qualify: { event: dispense, condition: { script: "return msg.v >= 10" } }
    value: 50
    threshold: 1000
    channels: [push]
`);
    const l = new DeviceLink(agent!, 'scale-1');
    l.send(HELLO_SCALE(), pour(1, 13), pour(2, 20), pour(3, 13), pour(4, 30));
    await allAnswered(agent as Agent);
    expect(l.acks()).toEqual([1, 2, 3, 4]);
    expect(agent!.status().ingest.accepted).toBe(4);
    expect(row('stuck')?.f).toBe(2); // the two good pours, each in a worker started after a stop
    expect(row('big-pour')?.f).toBe(4);
    const st = agent!.status();
    expect(st.scripts.find((x) => x.id === 'campaign/stuck/condition')).toMatchObject({ state: 'ok', failures: 2, lastError: { kind: 'timeout', message: 'took longer than 50 ms' } });
    expect(st.sandbox?.workerRestarts).toBe(2);
    expect(renderMetrics(st)).toMatch(/^edge_agent_script_worker_restarts_total 2$/m);
  });

  it('a script that does not compile stops the start with its config path and line', async () => {
    await expect(
      start(`
  - id: scored
    qualify: { event: dispense }
    value: { script: "var x = 1;\\nreturn x +;" }
    threshold: 1000
    channels: [push]
`),
    ).rejects.toThrow(ConfigError);
    agent = null;
  });
});

describe('config validate and script test from the command line', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.cleanup());

  it('config validate reports a compile error in a script file with file, line and column; exit 2', async () => {
    fs.writeFileSync(path.join(t.dir, 'value.js'), 'function score(features) {\n  return features.f *;\n}\n');
    fs.writeFileSync(path.join(t.dir, 'config.yaml'), yaml('./data', CAMPAIGNS));
    const r = await runCli(['config', 'validate', '--config', path.join(t.dir, 'config.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`campaigns[1].value.scriptFile: compile error at ${path.join(t.dir, 'value.js')}:2:`);
    expect(r.stderr).toContain('SyntaxError');
    const json = await runCli(['config', 'validate', '--config', path.join(t.dir, 'config.yaml'), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, issues: [{ path: 'campaigns[1].value.scriptFile' }] });
    fs.writeFileSync(path.join(t.dir, 'value.js'), VALUE_JS);
    const ok = await runCli(['config', 'validate', '--config', path.join(t.dir, 'config.yaml')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('3 scripts compiled');
  });

  it('run refuses a config whose script does not compile, in one line (exit 2)', async () => {
    fs.writeFileSync(path.join(t.dir, 'value.js'), 'return features.f +;\n');
    fs.writeFileSync(path.join(t.dir, 'config.yaml'), yaml('./data', CAMPAIGNS));
    const r = await runCli(['run', '--config', path.join(t.dir, 'config.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^edge-agent: campaigns\[1\]\.value\.scriptFile: compile error at .*value\.js:1:\d+: SyntaxError/)]);
  });

  it('script test runs decoders, conditions and scores as the agent would, with console lines and classified errors', async () => {
    const f = (name: string, src: string): string => {
      fs.writeFileSync(path.join(t.dir, name), src);
      return path.join(t.dir, name);
    };
    const dec = f('dec.js', 'var d = decodeToJson(payload);\nconsole.log("got", d.t);\nreturn { deviceName: metadata.deviceName, telemetry: { temperature: d.t } };\n');
    let r = await runCli(['script', 'test', '--file', dec, '--input', '{"t": 21.5}', '--metadata', '{"deviceName": "th-1"}', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, kind: 'decoder', result: [{ deviceName: 'th-1', telemetry: [{ values: { temperature: 21.5 } }] }], logs: ['log got 21.5'] });
    r = await runCli(['script', 'test', '--file', dec, '--input', '[123, 34, 116, 34, 58, 49, 125]']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/decoder ok in [\d.]+ ms/);
    const cond = f('cond.js', 'return msg.v > 5');
    r = await runCli(['script', 'test', '--kind', 'condition', '--file', cond, '--input', '{"v": 3}', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, result: false });
    const notANumber = f('score.js', 'return features.v > 5');
    r = await runCli(['script', 'test', '--kind', 'score', '--file', notANumber, '--input', '{"v": 3}', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { kind: 'runtime', message: 'must return a number 0–100, got false' } });
    const loop = f('loop.js', 'for (;;) {}');
    r = await runCli(['script', 'test', '--file', loop, '--timeout', '20ms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timeout error after [\d.]+ ms: took longer than 20 ms/);
    const bad = f('bad.js', 'var a = 1;\nreturn a +;\n');
    r = await runCli(['script', 'test', '--file', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`compile error at ${bad}:2:`);
    r = await runCli(['script', 'test', '--file', bad, '--input', '{oops']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--input is not valid JSON/);
    r = await runCli(['script', 'test', '--file', path.join(t.dir, 'missing.js')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*missing\.js \(ENOENT\)/);
  });
});
