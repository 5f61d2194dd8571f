import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScriptHost, checkCondition, checkGenerated, checkSwitch, checkTransform, FIRST_GENERATOR_INPUT, type RuleMessage, type ScriptKind } from '../../agent/sandbox';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/*
 * ThingsBoard rule-node scripts with ThingsBoard's result rules (its script engine: a transform returns an
 * object or an array of them, fields left out are taken from the input, metadata values are strings; a switch
 * returns a name or names; a filter exactly a boolean; a generator an object built from the previous message).
 * The scripts are ours, written to the documented contract and the documented example behaviours.
 */
describe('ThingsBoard rule-node results', () => {
  const host = new ScriptHost();
  afterAll(() => host.stop());
  let n = 0;
  const run = async <T>(kind: ScriptKind, source: string, args: unknown[], check: (v: unknown) => { ok: true; value: T } | { ok: false; message: string }): Promise<unknown> => {
    const id = `s${n++}`;
    expect(await host.add({ id, kind, source })).toBeNull();
    const r = host.run(id, args, check);
    return r.ok ? r.value : `${r.error.kind}: ${r.error.detail}`;
  };
  const input = (msg: unknown, metadata: Record<string, string> = { deviceName: 'd1' }, msgType = 'POST_TELEMETRY_REQUEST'): RuleMessage => ({ msg, metadata, msgType });
  const transform = (source: string, m: RuleMessage): Promise<unknown> => run('transform', source, [m.msg, m.metadata, m.msgType], (v) => checkTransform(v, m));

  it.each<[string, string, RuleMessage, unknown]>([
    ['adds a field, the rest kept', 'msg.total = msg.x + msg.y; return {msg: msg};', input({ x: 2, y: 5 }), [input({ x: 2, y: 5, total: 7 })]],
    ['converts a unit in place', 'msg.temp = Math.round((msg.temp - 32) / 1.8); return {msg: msg};', input({ temp: 212 }), [input({ temp: 100 })]],
    ['replaces the payload', 'return {msg: {keys: Object.keys(msg).length}};', input({ a: 1, b: 2, c: 3 }), [input({ keys: 3 })]],
    [
      'new type and metadata; metadata values become strings',
      'metadata.room = "kitchen"; metadata.floor = 2; msg.rev = "2"; return {msg: msg, metadata: metadata, msgType: "CUSTOM"};',
      input({ t: 1 }),
      [input({ t: 1, rev: '2' }, { deviceName: 'd1', room: 'kitchen', floor: '2' }, 'CUSTOM')],
    ],
    [
      'two messages out of one',
      'return [{msg: {hi: msg.v + 1}, metadata: metadata, msgType: msgType}, {msg: {lo: msg.v - 1}}];',
      input({ v: 10 }),
      [input({ hi: 11 }), input({ lo: 9 })],
    ],
    ['an empty msgType keeps the input type', 'return {msgType: ""};', input({ a: 1 }), [input({ a: 1 })]],
    ['a number is the wrong result type', 'return 5;', input({}), 'runtime: Wrong result type: NUMBER'],
    ['undefined is not a result', 'msg.x = 1;', input({}), expect.stringMatching(/^runtime: /)],
  ])('transform: %s', async (_what, source, m, expected) => expect(await transform(source, m)).toEqual(expected));

  it.each<[string, string, RuleMessage, unknown]>([
    ['one relation by threshold', "if (msg.t > 30) return ['Hot']; if (msg.t < 20) return ['Cold']; return ['Normal'];", input({ t: 35 }), ['Hot']],
    ['by message type, several relations', "if (msgType === 'POST_ATTRIBUTES_REQUEST' && msg.state === 'IDLE') return ['Idle', 'Save state']; return [];", input({ state: 'IDLE' }, {}, 'POST_ATTRIBUTES_REQUEST'), ['Idle', 'Save state']],
    ['a single name', "return 'Other';", input({}), ['Other']],
    ['duplicates collapse', "return ['A', 'A'];", input({}), ['A']],
    ['not a name', 'return [1];', input({}), 'runtime: Wrong result type: NUMBER'],
  ])('switch: %s', async (_what, source, m, expected) => expect(await run('switch', source, [m.msg, m.metadata, m.msgType], checkSwitch)).toEqual(expected));

  it.each<[string, string, unknown, unknown]>([
    ['true', 'return msg.t > 20;', { t: 21 }, true],
    ['a truthy string is not a boolean', 'return "true";', {}, 'runtime: must return true or false, got "true"'],
  ])('filter: %s', async (_what, source, msg, expected) => expect(await run('condition', source, [msg, {}, 'X'], checkCondition)).toEqual(expected));

  it('generator: starts from {} / {} / "", and each message is made from the previous one', async () => {
    const source = `var up = prevMetadata.up !== 'false';
var t = typeof prevMsg.t === 'number' ? prevMsg.t : 19;
t = up ? t + 1 : t - 1;
if (t >= 21) up = false;
if (t <= 19) up = true;
return { msg: { t: t, first: prevMsgType === '' }, metadata: { up: up }, msgType: 'POST_TELEMETRY_REQUEST' };`;
    const id = 'gen';
    expect(await host.add({ id, kind: 'generator', source })).toBeNull();
    let prev = FIRST_GENERATOR_INPUT;
    const out: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const r = host.run(id, [prev.msg, prev.metadata, prev.msgType], (v) => checkGenerated(v, prev));
      if (!r.ok) throw r.error;
      prev = r.value;
      out.push(prev);
    }
    expect(out).toEqual([
      { msg: { t: 20, first: true }, metadata: { up: 'true' }, msgType: 'POST_TELEMETRY_REQUEST' },
      { msg: { t: 21, first: false }, metadata: { up: 'false' }, msgType: 'POST_TELEMETRY_REQUEST' },
      { msg: { t: 20, first: false }, metadata: { up: 'false' }, msgType: 'POST_TELEMETRY_REQUEST' },
      { msg: { t: 19, first: false }, metadata: { up: 'true' }, msgType: 'POST_TELEMETRY_REQUEST' },
    ]);
    expect(await run('generator', 'return [1];', [{}, {}, ''], (v) => checkGenerated(v, FIRST_GENERATOR_INPUT))).toBe('runtime: Wrong result type: ARRAY');
  });
});

describe('edge-agent script test: rule nodes, and why a script cannot run here', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());
  const f = (name: string, body: string): string => {
    fs.writeFileSync(path.join(t.dir, name), body);
    return path.join(t.dir, name);
  };

  it('runs a generator (guessed from prevMsg) several times, and a transform with ThingsBoard defaults', async () => {
    const gen = f('gen.js', 'var n = (prevMsg.n || 0) + 1;\nreturn { msg: { n: n }, metadata: { seq: n }, msgType: prevMsgType || "POST_TELEMETRY_REQUEST" };\n');
    let r = await runCli(['script', 'test', '--file', gen, '--count', '3', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      kind: 'generator',
      result: [
        { msg: { n: 1 }, metadata: { seq: '1' }, msgType: 'POST_TELEMETRY_REQUEST' },
        { msg: { n: 2 }, metadata: { seq: '2' } },
        { msg: { n: 3 }, metadata: { seq: '3' } },
      ],
    });
    const tr = f('tr.js', 'return {msg: {c: (msg.f - 32) * 5 / 9}};');
    r = await runCli(['script', 'test', '--kind', 'transform', '--file', tr, '--input', '{"f": 212}', '--metadata', '{"deviceName": "x"}', '--msg-type', 'POST_TELEMETRY_REQUEST', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, result: [{ msg: { c: 100 }, metadata: { deviceName: 'x' }, msgType: 'POST_TELEMETRY_REQUEST' }] });
    r = await runCli(['script', 'test', '--kind', 'transform', '--file', tr, '--count', '2']);
    expect(r.code).toBe(2);
  });

  it.each<[string, string, string[], RegExp]>([
    ['require', 'var fs = require("fs");\nreturn {};', [], /^cannot run here: it uses require, and scripts here have no access to modules \(ThingsBoard's sandbox has none either\) \(runtime error: ReferenceError/],
    ['a timer', 'setTimeout(function () {}, 10);\nreturn true;', ['--kind', 'condition'], /^cannot run here: it uses setTimeout, and scripts here have no access to timers/],
    ['async', 'return (async function () { return 1; })();', ['--kind', 'rule'], /^cannot run here: it is asynchronous \(returns a Promise\)/],
    ['TBEL', 'var out = [];\nforeach (b : payload) { out.add(b); }\nreturn {telemetry: {n: out.size()}};', [], /^cannot run here: it looks like TBEL, not JavaScript \(foreach, \.size\(\)\)/],
    ['an ES module', 'import x from "y";\nexport default function (msg) { return msg; }', ['--kind', 'rule'], /^cannot run here: it is an ES module/],
    ['a converter export', '{"name": "c", "configuration": {"scriptLang": "JS", "decoder": "return {};"}}', [], /^cannot run here: this is a converter export \(JSON\), not a script/],
    ['a downlink encoder', 'function Encoder(msg, metadata) { return { contentType: "JSON", data: JSON.stringify(msg) }; }', ['--kind', 'rule'], /^cannot run here: it is a downlink encoder/],
  ])('one line for %s', async (_what, body, flags, message) => {
    const r = await runCli(['script', 'test', '--file', f(`x${_what.replace(/\W/g, '')}.js`, body), ...flags]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
