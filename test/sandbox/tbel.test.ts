import { parseConfig } from '../../agent/config';
import { ScriptHost, campaignScriptId, checkCondition, checkDecoded, checkScore, configuredScripts, loadConfiguredScripts, type ScriptKind } from '../../agent/sandbox';
import { bleDecoderScriptId } from '../../agent/sandbox/configured-scripts';

// TBEL cases written from ThingsBoard's TBEL documentation (language guide and helper-function reference): each
// row is a rule script (`msg`, `metadata`, `msgType`) and the value TBEL returns for it.
const any = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });

describe('TBEL semantics (table)', () => {
  const host = new ScriptHost({ limits: { timeoutMs: 1000 } });
  afterAll(() => host.stop());
  let n = 0;
  const run = async (source: string, msg: unknown = {}, metadata: unknown = {}): Promise<unknown> => {
    const id = `t${n++}`;
    const err = await host.add({ id, kind: 'rule', source, language: 'tbel' });
    if (err) throw err;
    const r = host.run(id, [msg, metadata, 'POST_TELEMETRY_REQUEST'], any);
    if (!r.ok) throw r.error;
    return r.value;
  };

  const cases: Array<[string, string, unknown, unknown?]> = [
    // expressions, the last statement's value is the result
    ['value of the last expression', 'var a = 2; a * 21', 42],
    ['integer division gives a double', 'return 7 / 2;', 3.5],
    ['modulo and precedence', 'return 2 + 3 * 4 % 5;', 4],
    ['hex, long and float literals', 'return 0x1F + 10L + 1.5f;', 42.5],
    ['string concatenation left to right', 'return "v" + 1 + 2;', 'v12'],
    ['null concatenates as "null"', 'var x = null; return "a" + x;', 'anull'],
    ['== compares values, a number with its text', 'return [1 == 1.0, "5" == 5, "a" == "a", null == null, 1 != 2];', [true, true, true, true, true]],
    ['a string "true" equals true (metadata values are strings)', 'return metadata.flag == true;', true, { flag: 'true' }],
    ['&& and || give booleans', 'return ["x" && 1, null || 0];', [true, false]],
    ['ternary and if/else', 'var t = msg.t; if (t > 20) { return "warm"; } else { return t > 10 ? "mild" : "cold"; }', 'mild', { t: 15 }],
    ['if/else as the last statement returns its branch value', 'if (msg.t > 20) "warm" else "cold"', 'cold', { t: 1 }],
    ['assignment without var creates the variable', 'total = 0; for (int i = 1; i <= 4; i++) { total += i; } return total;', 10],
    ['while, do/while, break and continue', 'var i = 0, s = 0; while (true) { i++; if (i % 2 == 0) continue; if (i > 7) break; s += i; } do { s++; } while (false); return s;', 17],
    ['switch with fall-through and default', 'var out = []; foreach (k : [1, 2, 3]) { switch (k) { case 1: out.add("one"); case 2: out.add("two"); break; default: out.add("many"); } } return out;', ['one', 'two', 'two', 'many']],
    ['functions declared after use, recursion', 'return fact(5);\nfunction fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }', 120],
    ['a function sees the script variables', 'var base = 100; function add(x) { return base + x; } return add(5);', 105],
    ['def functions return their last value', 'def twice(x) { x * 2 } twice(21)', 42],
    ['Java casts', 'return [(int) 3.99, (int) -3.99, (byte) 200, (long) 1e10, (short) 40000];', [3, -3, -56, 1e10, -25536]],
    // lists
    ['list methods', 'var l = [3, 1, 2]; l.add(4); l.add(0, 9); l.remove(1); l.sort(); return [l, l.size(), l.get(0), l.contains(4), l.indexOf(4), l.isEmpty()];', [[1, 2, 4, 9], 4, 1, true, 2, false]],
    ['list.size and list.length as properties', 'var l = [1, 2, 3]; return l.size + l.length;', 6],
    ['remove by value and by index', 'var l = ["a", "b", "c"]; l.remove("b"); var x = l.remove(0); return [l, x];', [['c'], 'a']],
    ['push/pop/shift/unshift/slice/join/reverse', 'var l = [1, 2]; l.push(3); l.unshift(0); var p = l.pop(); var s = l.shift(); l.reverse(); return [l, p, s, [1, 2, 3, 4].slice(1, 3), [1, 2, 3].join("-")];', [[2, 1], 3, 0, [2, 3], '1-2-3']],
    ['addAll and a list index out of range throws', 'var l = [1]; l.addAll([2, 3]); return l;', [1, 2, 3]],
    ['foreach over a list, a string and a count', 'var s = ""; foreach (x : ["a", "b"]) { s += x; } foreach (c : "yz") { s += c; } foreach (i : 3) { s += i; } return s;', 'abyz123'],
    ['for (x : list) is foreach too', 'var n = 0; for (x : [5, 6]) { n += x; } return n;', 11],
    ['new ArrayList and new HashMap', 'var l = new ArrayList(); l.add(1); var m = new java.util.HashMap(); m.put("k", l); return m;', { k: [1] }],
    ['Java array creation', 'var a = new int[3]; a[1] = 7; var b = new byte[]{1, 2}; return [a, b, a.length];', [[0, 7, 0], [1, 2], 3]],
    // maps
    ['map methods', 'var m = {a: 1}; m.put("b", 2); m.putAll({c: 3}); var r = m.remove("a"); return [m, m.size(), m.containsKey("b"), m.get("zz"), r, m.keySet(), m.values()];', [{ b: 2, c: 3 }, 2, true, null, 1, ['b', 'c'], [2, 3]]],
    ['MVEL inline maps and empty map', 'var m = ["a": 1, "b": [1, 2]]; var e = [:]; return [m, e.isEmpty()];', [{ a: 1, b: [1, 2] }, true]],
    ['a missing key reads as null', 'var m = {}; return m.nothing == null && m["x"] == null;', true],
    ['setting a key to null removes it', 'var m = {a: 1, b: 2}; m.a = null; m["b"] = null; m.put("c", 3); return m;', { c: 3 }],
    ['entrySet entries have key and value', 'var out = []; foreach (e : {x: 1, y: 2}.entrySet()) { out.add(e.key + "=" + e.getValue()); } return out;', ['x=1', 'y=2']],
    ['map.keys as a property', 'var m = {p: 1, q: 2}; return m.keys.contains("q");', true],
    ['null-safe navigation', 'return [msg.?a.?b, msg.?a.?b.size(), msg.x.?y];', [null, null, 5], { x: { y: 5 } }],
    ['instanceof with Java types', 'return [[1] instanceof java.util.ArrayList, {} instanceof Map, "s" instanceof String, [1] instanceof Map];', [true, true, true, false]],
    // strings
    ['Java string methods', 'var s = " Hello, World "; var t = s.trim(); return [t.length(), t.substring(7), t.substring(0, 5), t.indexOf("o"), t.lastIndexOf("o"), t.toUpperCase(), t.contains("World"), t.startsWith("He"), t.charAt(1)];', [12, 'World', 'Hello', 4, 8, 'HELLO, WORLD', true, true, 'e']],
    ['replace is literal, replaceAll a regex, split drops trailing empties', 'var s = "a.b.c.."; return [s.replace(".", "-"), s.replaceAll("[.]+", "/"), s.split("\\\\.")];', ['a-b-c--', 'a/b/c/', ['a', 'b', 'c']]],
    ['String.format', 'return [String.format("%02x", 10), String.format("%04X", 48879), String.format("%.2f", 3.14159), String.format("%5d|%-4s|", 42, "ab"), String.format("%s=%d", "n", 7)];', ['0a', 'BEEF', '3.14', '   42|ab  |', 'n=7']],
    ['String.format %02x of a signed byte is the byte', 'var b = hexToBytes("FF80"); return String.format("%02x%02x", b[0], b[1]);', 'ff80'],
    // numbers and Java classes
    ['Integer, Long, Double parsing', 'return [Integer.parseInt("-42"), Integer.parseInt("ff", 16), Long.parseLong("1234567890123"), Double.parseDouble("2.5"), Integer.toHexString(255), Integer.toString(5, 2)];', [-42, 255, 1234567890123, 2.5, 'ff', '101']],
    ['Integer.parseInt refuses what Java refuses', 'try { return Integer.parseInt("12a"); } catch (e) { return "bad"; }', 'bad'],
    ['Math', 'return [Math.pow(2, 10), Math.abs(-3), Math.round(2.5), Math.round(-2.5), Math.floor(-1.5), Math.max(3, 9), Math.sqrt(16)];', [1024, 3, 3, -2, -2, 9, 4]],
    ['Integer.MAX_VALUE and MIN_VALUE', 'return [Integer.MAX_VALUE, Integer.MIN_VALUE];', [2147483647, -2147483648]],
    ['Arrays.copyOfRange', 'var b = [1, 2, 3, 4]; return java.util.Arrays.copyOfRange(b, 1, 3);', [2, 3]],
    // TbUtils helpers
    ['toFixed rounds half up', 'return [toFixed(2.345, 2), toFixed(1.005, 2), toFixed(-1.5, 0), toFixed(10, 1)];', [2.35, 1.01, -2, 10]],
    ['toInt rounds half up', 'return [toInt(2.5), toInt(2.4), toInt(-2.5)];', [3, 2, -3]],
    ['hexToBytes gives signed bytes, bytesToHex uppercase', 'var b = hexToBytes("01FF7F80"); return [b, bytesToHex(b), printUnsignedBytes(b)];', [[1, -1, 127, -128], '01FF7F80', [1, 255, 127, 128]]],
    ['base64ToBytes and bytesToBase64', 'var b = base64ToBytes("AQL/"); return [b, bytesToBase64(b), base64ToHex("AQL/"), hexToBase64("0102FF")];', [[1, 2, -1], 'AQL/', '0102FF', 'AQL/']],
    ['parseBytesToInt: big endian by default, unsigned below 4 bytes, signed at 4', 'var b = [0xFF, 0xFE, 0x01, 0x02]; return [parseBytesToInt(b, 0, 2), parseBytesToInt(b, 0, 2, false), parseBytesToInt(b, 0, 4), parseBytesToInt(b, 2, 2, true), parseBytesToInt(b)];', [65534, 65279, -130814, 258, -130814]],
    ['parseBytesToLong and parseBytesToUnsignedInt', 'return [parseBytesToLong([1, 0, 0, 0, 0], 0, 5), parseBytesToUnsignedInt([0xFF, 0xFF, 0xFF, 0xFF], 0, 4)];', [4294967296, 4294967295]],
    ['parseBytesToFloat (IEEE 754) big and little endian', 'return [parseBytesToFloat([0x41, 0xC8, 0x00, 0x00]), parseBytesToFloat([0x00, 0x00, 0xC8, 0x41], 0, 4, false), parseBytesToFloat([0x41, 0xBA, 0x66, 0x66])];', [25, 25, 23.3]],
    ['parseBytesToDouble', 'return parseBytesToDouble([0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18]);', 3.141592653589793],
    ['parseHexToInt and little-endian variants', 'return [parseHexToInt("0A0B"), parseHexToInt("0A0B", false), parseLittleEndianHexToInt("0A0B"), parseBigEndianHexToInt("FFFF"), parseHexToFloat("41C80000")];', [2571, 2826, 2826, 65535, 25]],
    ['TbUtils parseInt detects decimal and hex', 'return [parseInt("123"), parseInt("0x1A"), parseInt("FF"), parseInt(""), parseLong("9999999999")];', [123, 26, 255, null, 9999999999]],
    ['parseFloat and parseDouble', 'return [parseFloat("1.25"), parseDouble("2.5e3"), parseFloat("0x41200000")];', [1.25, 2500, 10]],
    ['intToHex and longToHex', 'return [intToHex(255), intToHex(-1), intToHex(4660, false), intToHex(10, true, true), longToHex(1099511627775)];', ['FF', 'FF', '3412', '0x0A', 'FFFFFFFFFF']],
    ['decodeToString, decodeToJson and stringToBytes (UTF-8)', 'var b = stringToBytes("é{}"); return [b, decodeToString(b), decodeToJson("{\\"a\\": [1]}")];', [[-61, -87, 123, 125], 'é{}', { a: [1] }]],
    ['btoa and atob', 'return [btoa("hello"), atob("aGVsbG8=")];', ['aGVsbG8=', 'hello']],
    ['binary arrays', 'return [parseByteToBinaryArray(5, 4), parseBinaryArrayToInt([1, 0, 1])];', [[0, 1, 0, 1], 5]],
    ['toFlatMap', 'return toFlatMap({a: {b: 1, c: [2, 3]}, d: "x"});', { 'a.b': 1, 'a.c.0': 2, 'a.c.1': 3, d: 'x' }],
    ['padStart, padEnd, isHexadecimal, isDecimal', 'return [padStart("7", 3, "0"), padEnd("7", 3, "-"), isHexadecimal("0xAF"), isDecimal("12.5"), isDecimal("x")];', ['007', '7--', 16, 10, -1]],
    ['isMap, isList, newSet', 'var s = newSet(); s.add(1); s.add(1); s.add(2); return [isMap({}), isList([]), s.size(), s.contains(2)];', [true, true, 2, true]],
    ['Date: ISO text with microseconds and offset, now', 'var d = new Date("2023-05-22T07:47:05.404859+02:00"); return [d.getTime(), Date.now() > 1700000000000];', [1684734425404, true]],
    ['raiseError is a runtime error the script can catch', 'try { raiseError("boom"); } catch (e) { return e.getMessage(); }', 'boom'],
  ];

  // rows have 3 or 4 columns: a rest parameter keeps jest from taking a 4th parameter for a done callback
  it.each(cases)('%s', async (...[, source, expected, msg]) => {
    expect(await run(source, msg ?? {}, msg ?? {})).toEqual(expected); // metadata is the same object: some rows read it
  });

  it('an index past the end of a list is a runtime error, as in Java', async () => {
    await expect(run('var l = [1]; return l[3];')).rejects.toMatchObject({ kind: 'runtime', detail: expect.stringMatching(/IndexOutOfBoundsException: Index 3 out of bounds for length 1/) });
    await expect(run('var m = null; return m.x;')).rejects.toMatchObject({ kind: 'runtime', detail: expect.stringMatching(/NullPointerException/) });
    await expect(run('return nope(1);')).rejects.toMatchObject({ kind: 'runtime', detail: expect.stringMatching(/function "nope" is not defined/) });
    await expect(run('return "abc".nope();')).rejects.toMatchObject({ kind: 'runtime', detail: expect.stringMatching(/no method nope\(\)/) });
  });

  it('a script cannot reach JavaScript globals through TBEL names', async () => {
    await expect(run('return globalThis;')).rejects.toMatchObject({ kind: 'runtime' });
    await expect(run('var m = {}; return m.constructor;')).resolves.toBeNull();
    await expect(run('return "x".constructor("1");')).rejects.toMatchObject({ kind: 'runtime' });
  });
});

describe('TBEL as a decoder, condition and score', () => {
  const host = new ScriptHost({ limits: { timeoutMs: 1000 } });
  afterAll(() => host.stop());
  const add = async (id: string, kind: ScriptKind, source: string): Promise<void> => {
    expect(await host.add({ id, kind, source, language: 'tbel' })).toBeNull();
  };

  it('a decoder sees the payload as signed bytes, like a ThingsBoard byte[]', async () => {
    await add(
      'dec',
      'decoder',
      `var t = parseBytesToInt(payload, 0, 2, false) / 100;
var raw = payload[2];
return { deviceName: metadata.deviceName, telemetry: { temperature: t, raw: raw, unsigned: raw & 0xFF } };`,
    );
    const r = host.run('dec', [[0x66, 0x08, 0xf0], { deviceName: 'th-1' }], checkDecoded);
    expect(r).toEqual({ ok: true, value: [{ deviceName: 'th-1', telemetry: [{ values: { temperature: 21.5, raw: -16, unsigned: 240 } }], attributes: {}, events: [] }] });
    // values that are not bytes are the script's error, as a Java byte[] could not hold them
    const bad = host.run('dec', [[0x66, 0x08, 300], { deviceName: 'th-1' }], checkDecoded);
    expect(bad).toMatchObject({ ok: false, error: { kind: 'runtime', detail: expect.stringMatching(/NumberFormatException: The value '300'/) } });
  });

  it('a condition and a score return what the agent checks', async () => {
    await add('cond', 'condition', `msg.v >= 10 && metadata.deviceType == "kitchen-scale"`);
    expect(host.run('cond', [{ v: 12 }, { deviceType: 'kitchen-scale' }, 'EVENT'], checkCondition)).toEqual({ ok: true, value: true });
    expect(host.run('cond', [{ v: 2 }, { deviceType: 'kitchen-scale' }, 'EVENT'], checkCondition)).toEqual({ ok: true, value: false });
    await add('score', 'score', `Math.min(100, 20 + features.f * 10)`);
    expect(host.run('score', [{ f: 3 }], checkScore)).toEqual({ ok: true, value: 50 });
  });
});

// Java's number types where they change a result (MVEL's MathProcessor: Integer / Integer is a double, mixed
// integer types divide as the wider type; Double.toString and Float.toString for text), and MVEL's function
// scope (a function's `var` is its own from that line on). Payload [101, 0, 200, 7]: bytes 101, 0, -56, 7.
describe('TBEL number types and function scope', () => {
  const host = new ScriptHost({ limits: { timeoutMs: 1000 } });
  afterAll(() => host.stop());
  let n = 0;
  const decode = async (source: string): Promise<unknown> => {
    const id = `n${n++}`;
    const err = await host.add({ id, kind: 'decoder', source, language: 'tbel' });
    if (err) throw err;
    const r = host.run(id, [[101, 0, 200, 7], {}], any);
    if (!r.ok) throw r.error;
    return r.value;
  };

  it.each<[string, string, unknown]>([
    ['a payload byte divided by an int is an int (Byte / Integer)', 'return [payload[0] / 2, payload[2] / 10, payload[0] / 2.0, payload[0] / 2L];', [50, -5, 50.5, 50]],
    ['a masked byte is an int: int / int is a double', 'return [(payload[0] & 0xFF) / 2, parseBytesToInt(payload, 0, 1) / 2];', [50.5, 50.5]],
    ['bytes from base64ToBytes and hexToBytes divide the same way', 'var b = base64ToBytes("ZQ=="); var h = hexToBytes("65"); return [b[0] / 2, h[0] / 2];', [50, 50]],
    ['an element of a list of ints divides as a double', 'var l = [101]; var v = l[0]; return [l[0] / 2, v / 2];', [50.5, 50.5]],
    ['a byte kept in a variable is still a Byte', 'var b = payload[0]; var bytes = base64ToBytes("ZQ=="); var x = bytes[0]; return [b / 2, x / 2, b * 2 / 4];', [50, 50, 50.5]],
    ['two bytes divide as doubles (same type)', 'return payload[0] / payload[3];', 101 / 7],
    ['long / int truncates, int / int does not', 'var l = parseBytesToLong(payload, 0, 2); var i = parseBytesToInt(payload, 0, 2); return [l / 1000, i / 1000, 7 / 2, 7L / 2];', [25, 25.856, 3.5, 3]],
    ['a whole double as text keeps ".0"', 'var r = 7 / 7; return ["v" + r, "" + 2.5, String.valueOf(4 / 2), "n=" + 10, (3.0).toString()];', ['v1.0', '2.5', '2.0', 'n=10', '3.0']],
    ['large and small doubles as text use E notation', 'return ["" + 1.0e7, "" + 123456.5, "" + 0.0001, "" + 0.001, "" + -2.5e-5];', ['1.0E7', '123456.5', '1.0E-4', '0.001', '-2.5E-5']],
    ['a float as text is its shortest float digits', 'var f = parseBytesIntToFloat(payload, 3, 1) / 10; return ["V" + f, "" + 0.1f];', ['V0.7', '0.1']],
    ['a computed key: int arithmetic then / 3 + 1 is a double', 'var chans = [3, 6, 9]; var id = payload[3] & 0xff; return "line_" + ((id - chans[0]) / 4 + 1);', 'line_2.0'],
    ['+= on text', 'var s = "t="; s += 5 / 2; s += 4 / 2; return s;', 't=2.52.0'],
    ['a typed declaration converts what the variable gets', 'int x = 7 / 2; int y = 0; y = 9 / 2; y /= 2; byte b = 200; return [x, y, b];', [3, 2, -56]],
    ['a typed variable has its type: long / int truncates, a double shows ".0"', 'long ts = 1700000000123L; double d = 5; return [ts / 1000, "" + d];', [1700000000, '5.0']],
    [
      "a function reads the caller's variable until its own var of that name",
      'var data = 5;\nfunction f() { var before = data; if (true) { var data = 7; } return [before, data]; }\nvar r = f();\nreturn [r[0], r[1], data];',
      [5, 7, 5],
    ],
    ['a function var of a name the caller has is the function\'s own', 'var ts = -1;\nfunction g(x) { var ts = x * 2; return ts; }\nvar a = g(21);\nreturn [a, ts];', [42, -1]],
  ])('%s', async (_name, source, expected) => {
    expect(await decode(source)).toEqual(expected);
  });
});

describe('TBEL scripts from the config', () => {
  it('a BLE decoder and a qualify condition with language: tbel are loaded and run as TBEL', async () => {
    const { config } = parseConfig(
      `
gateway: { id: gw }
devices:
  - id: th-1
    transport: ble
    address: "A4:C1:38:00:11:22"
    characteristics:
      - uuid: "ebe0ccc2-7a0a-4b0c-8a1a-6ff2997da3a6"
        keys: [co2]
        category: environment
        decoder: { language: tbel, script: "return { telemetry: { co2: parseBytesToInt(payload, 0, 2, false) / 2 } };" }
campaigns:
  - id: big-pour
    qualify:
      event: dispense
      condition: { language: tbel, script: "msg.v >= 10 && metadata.deviceType == 'kitchen-scale'" }
    value: 50
    threshold: 1000
    channels: [push]
`,
      { sourceName: 'inline', baseDir: '.' },
    );
    expect(configuredScripts(config).map((s) => [s.id, s.language])).toEqual([
      [campaignScriptId('big-pour', 'condition'), 'tbel'],
      [bleDecoderScriptId('th-1', 0), 'tbel'],
    ]);
    const host = new ScriptHost();
    try {
      expect(await loadConfiguredScripts(host, config)).toEqual([]);
      // bytes 01 05 little-endian = 0x0501 = 1281; int / int is a double in TBEL
      expect(host.run(bleDecoderScriptId('th-1', 0), [[0x01, 0x05], {}], checkDecoded)).toMatchObject({ ok: true, value: [{ telemetry: [{ values: { co2: 640.5 } }] }] });
      // a condition in TBEL: the last expression is the result, && gives a boolean
      expect(host.run(campaignScriptId('big-pour', 'condition'), [{ v: 12 }, { deviceType: 'kitchen-scale' }, 'EVENT'], checkCondition)).toEqual({ ok: true, value: true });
    } finally {
      host.stop();
    }
  });
});

describe('TBEL compile errors carry the TBEL line and column', () => {
  const host = new ScriptHost();
  afterAll(() => host.stop());
  const cases: Array<[string, string, number, number, RegExp]> = [
    ['missing operand', 'var x = 1;\nvar y = x +;\nreturn y;', 2, 12, /unexpected ";"/],
    ['unclosed block', 'if (true) {\n  return 1;\n', 3, 1, /missing "}"/],
    ['unterminated string', 'var s = "abc;\nreturn s;', 1, 9, /unterminated string/],
    ['bad foreach', 'foreach (x in list) {}', 1, 10, /foreach/],
    ['two expressions on a line', 'var a = 1 2;', 1, 11, /expected ";"/],
    ['bad escape', 'var s = "a\\qb";', 1, 11, /bad escape/],
    ['unexpected character', 'var a = 1;\n  var b = #;', 2, 11, /unexpected character "#"/],
  ];
  it.each(cases)('%s', async (_name, source, line, col, message) => {
    const err = await host.add({ id: 'bad', kind: 'rule', source, language: 'tbel' });
    expect(err).toMatchObject({ kind: 'compile', line, column: col });
    expect(err?.detail).toMatch(message);
    expect(err?.detail).toMatch(/^TBEL syntax error: /);
  });
});

describe('TBEL under the sandbox limits and breaker', () => {
  let now = 1_000_000;
  const host = new ScriptHost({ limits: { timeoutMs: 30, memoryBytes: 4 * 1048576 }, clock: () => now });
  afterAll(() => host.stop());

  it('an endless loop is a timeout, even inside try/catch', async () => {
    expect(await host.add({ id: 'loop', kind: 'rule', source: 'try { while (true) { } } catch (e) { return 1; }', language: 'tbel' })).toBeNull();
    const r = host.run('loop', [{}, {}, 'EVENT'], any);
    expect(r).toMatchObject({ ok: false, error: { kind: 'timeout' } });
  });

  it('growing a list without end is a memory error, and the script is rebuilt', async () => {
    const roomy = new ScriptHost({ limits: { timeoutMs: 10_000, memoryBytes: 4 * 1048576 } });
    expect(await roomy.add({ id: 'grow', kind: 'rule', source: 'var s = "x"; var l = []; while (true) { s = s + s; l.add(s); }', language: 'tbel' })).toBeNull();
    const r = roomy.run('grow', [{}, {}, 'EVENT'], any);
    expect(r).toMatchObject({ ok: false, error: { kind: 'memory' } });
    await roomy.settled();
    expect(roomy.status().find((s) => s.id === 'grow')?.state).toBe('ok');
    roomy.stop();
  });

  it('a list growing past the time limit is stopped the same way', async () => {
    expect(await host.add({ id: 'grow', kind: 'rule', source: 'var l = []; while (true) { l.add("x" + l.size()); }', language: 'tbel' })).toBeNull();
    const r = host.run('grow', [{}, {}, 'EVENT'], any);
    expect(r).toMatchObject({ ok: false, error: { kind: expect.stringMatching(/^(timeout|memory)$/) } });
  });

  it('three failures in a row disable a TBEL script for 60 s', async () => {
    expect(await host.add({ id: 'flaky', kind: 'condition', source: 'if (msg.v == 13) { raiseError("unlucky"); } return true;', language: 'tbel' })).toBeNull();
    for (let i = 0; i < 3; i++) expect(host.run('flaky', [{ v: 13 }, {}, 'EVENT'], checkCondition)).toMatchObject({ ok: false, disabled: false, error: { kind: 'runtime', detail: 'RuntimeException: unlucky' } });
    expect(host.run('flaky', [{ v: 1 }, {}, 'EVENT'], checkCondition)).toMatchObject({ ok: false, disabled: true });
    now += 60_000;
    expect(host.run('flaky', [{ v: 1 }, {}, 'EVENT'], checkCondition)).toEqual({ ok: true, value: true });
  });
});
