import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/*
 * TBEL through the built CLI, as an operator uses it: a ThingsBoard converter export run by `script test
 * --converter`, a TBEL file by `--lang`/its extension, and `config validate` pointing at a TBEL syntax error
 * with the file (or config path) and line. The converter and payload fixtures are ours (test/fixtures/tbel).
 */
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'tbel');

/** a fresh process's first call of any script (JavaScript too) pays for the cold engine: not what is tested here */
const COLD = ['--timeout', '2s'];

const config = (campaigns: string): string => `
gateway: { id: gw-tbel }
devices:
  - { id: scale-1, transport: sim, model: kitchen-scale, profile: home-a }
campaigns:
${campaigns}
`;

describe('TBEL from the command line', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.cleanup());
  const f = (name: string, src: string): string => {
    fs.writeFileSync(path.join(t.dir, name), src);
    return path.join(t.dir, name);
  };

  it('script test --converter runs a converter export in the language it names, the payload file as its bytes', async () => {
    const r = await runCli(['script', 'test', '--converter', path.join(FIXTURES, 'scale-converter.json'), '--input', path.join(FIXTURES, 'scale-payload.json'), ...COLD, '--json']);
    expect(r.code).toBe(0);
    // by hand from the payload: bytes 05 09 C4 FF 38 64 1A; 0x09C4 / 100.0; 0xFF38 as a signed 16-bit / 10
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      kind: 'decoder',
      language: 'tbel',
      result: {
        deviceName: 'Scale A84041000181C5E1',
        deviceType: 'scale',
        attributes: { fPort: 2, rssi: -71, firmware: '1.10' },
        telemetry: [{ ts: 1709284530250, values: { weight: 25, temperature: -20, battery: 100, status: 'stable', flags: 'f0,f2', hex: '0509C4FF38641A' } }],
      },
      logs: [],
      durationMs: expect.any(Number),
    });
    const bad = f('down.json', JSON.stringify({ name: 'd', type: 'DOWNLINK', configuration: { scriptLang: 'TBEL', tbelEncoder: 'return {};' } }));
    const refused = await runCli(['script', 'test', '--converter', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/down\.json: "d" is a downlink converter; only uplink decoders run here$/);
  });

  it('a compile error in a converter names the export, its tbelDecoder and the line', async () => {
    const conv = f('conv.json', JSON.stringify({ name: 'c', type: 'UPLINK', configuration: { scriptLang: 'TBEL', tbelDecoder: 'var a = 1;\nvar b = a +;\nreturn {};' } }));
    const r = await runCli(['script', 'test', '--converter', conv]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`compile error at ${conv} (its tbelDecoder, line 2:12): TBEL syntax error: unexpected ";"`);
  });

  it('--lang tbel (or a .tbel file) runs TBEL; the same text as JavaScript is told to use TBEL', async () => {
    const src = 'var n = 0;\nforeach (v : msg.values) { if (v > 10) { n++; } }\nreturn n >= 2;\n';
    let r = await runCli(['script', 'test', '--kind', 'condition', '--lang', 'tbel', '--file', f('cond.txt', src), '--input', '{"values": [5, 12, 30]}', ...COLD, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, kind: 'condition', language: 'tbel', result: true });
    r = await runCli(['script', 'test', '--kind', 'condition', '--file', f('cond.tbel', src), '--input', '{"values": [5, 12]}', ...COLD, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, language: 'tbel', result: false });
    r = await runCli(['script', 'test', '--kind', 'condition', '--file', f('cond.js', src), '--input', '{"values": [5]}']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^cannot run here: it looks like TBEL, not JavaScript \(foreach\): run it as TBEL \(--lang tbel/);
    r = await runCli(['script', 'test', '--lang', 'python', '--file', f('x.py', 'return 1')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('edge-agent: --lang must be one of js, tbel, got "python"');
  });

  it('config validate reports a TBEL syntax error with its file and line, and an inline one with its config path', async () => {
    f('value.tbel', 'var base = 20;\nreturn Math.min(100, base + features.f * 10;\n');
    const cfg = f(
      'config.yaml',
      config(`
  - id: scored
    qualify:
      event: dispense
      condition: { language: tbel, script: "var ok = msg.v >= 10 &&;\\nreturn ok;" }
    value: { scriptFile: value.tbel }
    threshold: 1000
    channels: [push]
`),
    );
    const r = await runCli(['config', 'validate', '--config', cfg]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^campaigns\[0\]\.qualify\.condition\.script: compile error at line 1:24: TBEL syntax error: /));
    expect(lines).toContainEqual(expect.stringContaining(`campaigns[0].value.scriptFile: compile error at ${path.join(t.dir, 'value.tbel')}:2:`));
    f('value.tbel', 'var base = 20;\nreturn Math.min(100, base + features.f * 10);\n');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('msg.v >= 10 &&;', 'msg.v >= 10;'));
    const ok = await runCli(['config', 'validate', '--config', cfg]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('2 scripts compiled');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('language: tbel', 'language: lua'));
    const lua = await runCli(['config', 'validate', '--config', cfg]);
    expect(lua.code).toBe(2);
    expect(lua.stderr).toContain('campaigns[0].qualify.condition.language: must be tbel or js, got "lua"');
  });
});
