/**
 * The C99 firmware codec (firmware-bridge/firmware) against the shared vectors and against the TypeScript
 * codec, in both directions. gcc is required: CI installs it (.ci/run), so a missing compiler fails here
 * instead of skipping the firmware side silently.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Encoder } from 'cbor-x';
import vectors from '../../firmware-bridge/protocol/vectors.json';
import {
  FrameDecoder,
  FRAME_TYPES,
  ProtocolError,
  crc16,
  decodeDeviceFrame,
  decodeFrame,
  encodeFrame,
  encodeSerialFrame,
  type Frame,
  type GatewayFrame,
} from '../../firmware-bridge/protocol';
import { tempDir } from '../support/temp-dir';

const ROOT = path.resolve(__dirname, '../../firmware-bridge/firmware');
const COMPONENT = path.join(ROOT, 'components/edge_proto');
const SOURCES = fs
  .readdirSync(path.join(COMPONENT, 'src'))
  .filter((f) => f.endsWith('.c'))
  .map((f) => path.join(COMPONENT, 'src', f));
const VECTORS = path.resolve(__dirname, '../../firmware-bridge/protocol/vectors.json');
const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-Wshadow'];

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface ValidVector {
  name: string;
  frame: string;
  wire: string;
  expect: Frame;
  canonical: boolean;
}
interface MalformedVector {
  name: string;
  kind: string;
}
const valid = vectors.valid as unknown as ValidVector[];
const malformed = vectors.malformed as unknown as MalformedVector[];

let tmp: { dir: string; cleanup: () => void };
let binary: string;

function gcc(args: string[]): void {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error)
    throw new Error(`gcc is required for the firmware host tests (CI installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')} failed:\n${r.stderr}`);
}

// Leak checking is off: the library never allocates, and LeakSanitizer fails under ptrace-restricted CI containers.
function run(args: string[]): { status: number | null; lines: string[]; stderr: string } {
  const r = spawnSync(binary, args, {
    encoding: 'utf8',
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' },
  });
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => l.length > 0), stderr: r.stderr };
}

/** A decoded frame around a raw body, with a correct CRC (so the body reaches the CBOR reader). */
function frameWithBody(type: number, seq: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + body.length + 2);
  out[0] = 1;
  out[1] = type;
  out.writeUInt16LE(seq, 2);
  Buffer.from(body).copy(out, 4);
  out.writeUInt16LE(crc16(out, 0, 4 + body.length), 4 + body.length);
  return out;
}

/** Runs `host_test --decode` on "name frame|wire hex" lines; returns name → decoded JSON or error kind (per frame). */
function decodeInC(
  items: { name: string; form: 'frame' | 'wire'; bytes: Uint8Array }[],
): Map<string, (unknown | string)[]> {
  const file = path.join(tmp.dir, `decode-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(file, items.map((i) => `${i.name} ${i.form} ${toHex(i.bytes)}\n`).join(''));
  const r = run(['--decode', file]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = new Map<string, (unknown | string)[]>();
  for (const line of r.lines) {
    const m = /^(decoded|error) (\S+) (.*)$/.exec(line);
    if (m === null) throw new Error(`unexpected output line: ${line}`);
    const list = out.get(m[2]) ?? [];
    list.push(m[1] === 'decoded' ? JSON.parse(m[3]) : `error:${m[3]}`);
    out.set(m[2], list);
  }
  return out;
}

function tsKind(frame: Uint8Array): string {
  try {
    decodeFrame(frame);
    return 'ok';
  } catch (e) {
    if (e instanceof ProtocolError) return e.kind;
    throw e;
  }
}

beforeAll(() => {
  tmp = tempDir('edge-fw-');
  binary = path.join(tmp.dir, 'host_test');
  gcc([
    ...STRICT,
    '-fsanitize=address,undefined',
    '-fno-sanitize-recover=all',
    '-fno-omit-frame-pointer',
    '-g',
    '-O1',
    `-I${path.join(COMPONENT, 'include')}`,
    ...SOURCES,
    path.join(ROOT, 'test/host_test.c'),
    path.join(ROOT, 'test/json_mini.c'),
    '-o',
    binary,
  ]);
}, 120_000);

afterAll(() => tmp?.cleanup());

describe('C library build', () => {
  const objDir = (): string => path.join(tmp.dir, 'objs');
  beforeAll(() => {
    // -Os as on the device; optimisation enables more of gcc's flow warnings (e.g. maybe-uninitialized).
    fs.mkdirSync(objDir());
    for (const src of SOURCES) {
      const obj = path.join(objDir(), path.basename(src, '.c') + '.o');
      gcc([...STRICT, '-Wconversion', '-Os', `-I${path.join(COMPONENT, 'include')}`, '-c', src, '-o', obj]);
    }
  }, 120_000);

  it('compiles cleanly as C99 with -Wall -Wextra -Werror -pedantic -Wconversion, with and without -Os', () => {
    gcc([...STRICT, '-Wconversion', `-I${path.join(COMPONENT, 'include')}`, '-fsyntax-only', ...SOURCES]);
    expect(fs.readdirSync(objDir())).toHaveLength(SOURCES.length);
  });

  it('uses no libc beyond stdint/stddef/string/stdbool and no heap', () => {
    const allowed = new Set(['stdint.h', 'stddef.h', 'string.h', 'stdbool.h']);
    const headers = fs
      .readdirSync(path.join(COMPONENT, 'include/edge_proto'))
      .map((f) => path.join(COMPONENT, 'include/edge_proto', f));
    for (const f of [...SOURCES, ...headers]) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/#include\s*<([^>]+)>/g)) {
        expect({ file: path.basename(f), header: m[1], allowed: allowed.has(m[1]) }).toMatchObject({
          allowed: true,
        });
      }
    }
    // What the compiled objects actually link against: only our own symbols and <string.h> functions.
    const libc = new Set(['memcpy', 'memmove', 'memset', 'memcmp', 'strlen', 'strcmp']);
    const objs = fs.readdirSync(objDir()).map((f) => path.join(objDir(), f));
    const undefinedSyms = spawnSync('nm', ['-u', ...objs], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => /^\s+U (\S+)$/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(undefinedSyms).toContain('edge_crc16'); // nm really listed the objects' imports
    expect([...new Set(undefinedSyms.filter((x) => !x.startsWith('edge_') && !libc.has(x)))]).toEqual([]);
  });
});

describe('C host tests (shared vectors, units, fuzz under ASan/UBSan)', () => {
  let result: ReturnType<typeof run>;
  beforeAll(() => {
    result = run([VECTORS]);
  }, 120_000);

  it('exits 0 with no failures and no sanitizer report', () => {
    expect(result.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.lines[result.lines.length - 1]).toMatch(/^summary \d+ passed 0 failed$/);
    expect(result.lines).toContain('ok vectors crcCheck');
  });

  it('reports every valid vector as passing: decoded, through the serial reader, and re-encoded when canonical', () => {
    for (const [i, v] of valid.entries()) {
      const line = result.lines.find((l) => l.startsWith(`ok valid ${i} [`));
      expect({ vector: v.name, line }).toEqual({ vector: v.name, line: expect.stringContaining(v.name) });
      const flags = /\[([^\]]*)\]/.exec(line!)![1].split(',');
      const deviceWritable = v.expect.type !== 'command' && v.expect.type !== 'consent-state';
      expect({ vector: v.name, flags }).toEqual({
        vector: v.name,
        flags: v.canonical && deviceWritable ? ['decode', 'serial', 'encode'] : ['decode', 'serial'],
      });
    }
    expect(result.lines.filter((l) => /^(ok|FAIL) valid /.test(l))).toHaveLength(valid.length);
  });

  it('rejects every malformed vector with the expected error kind', () => {
    for (const [i, v] of malformed.entries()) {
      expect(result.lines).toContain(`ok malformed ${i} [${v.kind}] ${v.name}`);
    }
    expect(result.lines.filter((l) => /^(ok|FAIL) malformed /.test(l))).toHaveLength(malformed.length);
  });

  it('runs every unit and fuzz group', () => {
    const units = result.lines.filter((l) => l.startsWith('ok unit '));
    for (const topic of [
      'crc16',
      'cobs edge cases',
      'worked example',
      'resynchronises',
      'oversize',
      'largest serial frame',
      'cbor reader numbers',
      'cbor bodies',
      'gateway bodies',
      'cbor writer',
      'session',
      'fuzz: random serial streams',
      'fuzz: mutated frames',
    ]) {
      expect({ topic, found: units.some((l) => l.includes(topic)) }).toEqual({ topic, found: true });
    }
    // The fuzz loops really ran and produced both outcomes.
    expect(result.lines.find((l) => l.startsWith('info fuzz stream'))).toMatch(
      /2000000 bytes, [1-9]\d* frames, [1-9]\d* rejected/,
    );
  });
});

describe('C encoder → TypeScript decoder', () => {
  const expected: Record<string, Frame> = {
    'reading-double': { type: 'reading', seq: 100, body: { readings: [{ ch: 1, v: 0.1 }] } },
    'reading-half': { type: 'reading', seq: 101, body: { readings: [{ ch: 1, v: 21.5, t: 123456 }] } },
    'reading-single': { type: 'reading', seq: 102, body: { readings: [{ ch: 7, v: Math.fround(1 / 3) }] } },
    'batched-ints': {
      type: 'reading',
      seq: 103,
      body: {
        readings: [
          { ch: 1, v: 1000 },
          { ch: 2, v: -40, t: 4294967296 },
          { ch: 300, v: 100000, t: 5 },
        ],
      },
    },
    'batched-float-widths': {
      type: 'reading',
      seq: 104,
      body: {
        readings: [
          { ch: 1, v: 21.5 },
          { ch: 2, v: Math.fround(1 / 3), t: 10 },
          { ch: 3, v: 0.1 },
        ],
      },
    },
    hello: {
      type: 'hello',
      seq: 0,
      body: {
        id: 'scale-7',
        fw: '2.0.1',
        model: 'kitchen-scale',
        ch: [
          { n: 1, k: 'weight', c: 'usage' },
          { n: 2, k: 'event', c: 'usage' },
          { n: 3, k: 'pulse', c: 'health' },
        ],
      },
    },
    'event-full': { type: 'event', seq: 105, body: { e: 'dispense', ch: 2, v: 18.5, t: 1099511627776 } },
    'event-min': { type: 'event', seq: 106, body: { e: 'button' } },
    'consent-health': { type: 'consent', seq: 107, body: { s: 'health', g: true } },
    'consent-device': { type: 'consent', seq: 108, body: { s: 'device', g: false } },
    heartbeat: { type: 'heartbeat', seq: 65535, body: { up: 86400, rssi: -67 } },
    ack: { type: 'ack', seq: 109, body: { a: 513 } },
  };
  let emitted: Map<string, { frame: Buffer; wire: Buffer }>;
  beforeAll(() => {
    const r = run(['--emit']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    emitted = new Map(
      r.lines.map((l) => {
        const [tag, name, frame, wire] = l.split(' ');
        expect(tag).toBe('emit');
        return [name, { frame: hex(frame), wire: hex(wire) }];
      }),
    );
  });

  it('emits exactly the expected set of frames', () => {
    expect([...emitted.keys()].sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.keys(expected))('%s decodes with the TypeScript codec (frame and serial wire)', (name) => {
    const { frame, wire } = emitted.get(name)!;
    expect(decodeDeviceFrame(frame)).toEqual(expected[name]);
    const r = new FrameDecoder().push(wire);
    expect(r).toHaveLength(1);
    expect(r[0].ok && r[0].frame).toEqual(expected[name]);
  });

  it('uses each float width where asked: half, single, double', () => {
    const body = (n: string): string => toHex(emitted.get(n)!.frame.subarray(4, -2));
    expect(body('reading-half')).toContain('6176f94d60'); // "v": f9 21.5
    expect(body('reading-single')).toContain('6176fa3eaaaaab'); // "v": fa 1/3
    expect(body('reading-double')).toContain('6176fb3fb999999999999a'); // "v": fb 0.1
    expect(body('batched-float-widths')).toMatch(/f94d60.*fa3eaaaaab.*fb3fb999999999999a/);
    // 2^32 and 2^40 as 8-byte unsigned integers (shortest integer form), which the gateway accepts
    expect(body('batched-ints')).toContain('1b0000000100000000');
  });

  it('matches the TypeScript encoder byte for byte where both use the canonical form', () => {
    for (const name of [
      'reading-double',
      'hello',
      'consent-health',
      'consent-device',
      'heartbeat',
      'ack',
      'event-min',
    ]) {
      expect({ name, hex: toHex(emitted.get(name)!.frame) }).toEqual({
        name,
        hex: toHex(encodeFrame(expected[name])),
      });
    }
  });
});

describe('TypeScript encoder → C decoder', () => {
  const gateway: Record<string, GatewayFrame> = {
    ack: { type: 'ack', seq: 3, body: { a: 7 } },
    'ack-max': { type: 'ack', seq: 65535, body: { a: 65535 } },
    identify: { type: 'command', seq: 4, body: { c: 'identify' } },
    pause: { type: 'command', seq: 5, body: { c: 'pause' } },
    resume: { type: 'command', seq: 6, body: { c: 'resume' } },
    reboot: { type: 'command', seq: 7, body: { c: 'reboot' } },
    'notify-cli': {
      type: 'command',
      seq: 8,
      body: { c: 'notify', text: 'Coffee running low', led: 'amber', buzz: true },
    },
    'notify-campaign': {
      type: 'command',
      seq: 9,
      body: { c: 'notify', campaign: 'coffee-refill', signal: 'sig-42' },
    },
    'notify-long-text': { type: 'command', seq: 300, body: { c: 'notify', text: 'x'.repeat(64) } },
    'consent-all': {
      type: 'consent-state',
      seq: 10,
      body: {
        cats: {
          environment: true,
          presence: false,
          usage: true,
          location: false,
          health: false,
          biometric: true,
        },
      },
    },
    'consent-empty': { type: 'consent-state', seq: 11, body: { cats: {} } },
  };
  // What the C decoder reports: the same shape, with the optional notify fields it knows.
  const asC = (f: GatewayFrame): unknown => JSON.parse(JSON.stringify(f));

  it('decodes every gateway frame the TypeScript codec encodes (BLE form)', () => {
    const got = decodeInC(
      Object.entries(gateway).map(([name, f]) => ({ name, form: 'frame', bytes: encodeFrame(f) })),
    );
    for (const [name, f] of Object.entries(gateway))
      expect({ name, got: got.get(name) }).toEqual({ name, got: [asC(f)] });
  });

  it('decodes the same frames concatenated on one serial stream, with garbage between them', () => {
    const parts: Buffer[] = [];
    for (const f of Object.values(gateway))
      parts.push(Buffer.from(encodeSerialFrame(f)), Buffer.from([0x13, 0x37, 0x00]));
    const got = decodeInC([{ name: 'stream', form: 'wire', bytes: Buffer.concat(parts) }]).get('stream')!;
    const frames = got.filter((g) => typeof g !== 'string');
    expect(frames).toEqual(Object.values(gateway).map(asC));
    expect(got.filter((g) => typeof g === 'string')).toHaveLength(Object.keys(gateway).length); // one rejected garbage run each
  });

  it('decodes map16 bodies as cbor-x emits them without variableMapSize', () => {
    const wide = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
    const items = Object.entries(gateway).map(([name, f]) => {
      const body = wide.encode(f.body) as Uint8Array;
      expect(body[0]).toBe(0xb9); // really the map16 form
      return { name, form: 'frame' as const, bytes: frameWithBody(FRAME_TYPES[f.type], f.seq, body) };
    });
    for (const i of items) expect(decodeFrame(i.bytes)).toEqual(gateway[i.name]);
    const got = decodeInC(items);
    for (const [name, f] of Object.entries(gateway))
      expect({ name, got: got.get(name) }).toEqual({ name, got: [asC(f)] });
  });

  it('agrees with the TypeScript decoder on accept/reject for unusual but valid and for invalid bodies', () => {
    // ack bodies: every int/float width, length forms, unknown keys of every type, and rejected items
    const bodies: Record<string, string> = {
      plain: 'a1616107',
      'map8-of-one': 'b801616107',
      map16: 'b90001616107',
      map32: 'ba00000001616107',
      'non-shortest-uint8': 'a161611807',
      'uint16-wide': 'a16161190007',
      uint64: 'a161611b0000000000000007',
      'double-integral': 'a16161fb401c000000000000',
      'single-integral': 'a16161fa40e00000',
      'half-integral': 'a16161f94700',
      'text8-key': 'a178016107',
      'duplicate-key-last-wins': 'a2616101616108',
      'unknown-nested': 'a3617a830181f6a1617882f4f5616107627a7aa0',
      'unknown-floats-and-negatives': 'a4617af93c00617bfbc000000000000000617c3903e7616107',
      'unknown-null': 'a2617af6616107',
      'unknown-2^53-1': 'a2617a1b001fffffffffffff616107',
      'unknown-2^53': 'a2617a1b0020000000000000616107',
      'unknown-negative-2^53': 'a2617a3b001fffffffffffff616107',
      'unknown-bytes': 'a2617a41aa616107',
      'unknown-tag': 'a2617ac101616107',
      'unknown-undefined': 'a2617af7616107',
      'unknown-simple-16': 'a2617af0616107',
      'unknown-simple-8bit': 'a2617af820616107',
      'reserved-info-28': 'a161611c',
      'nested-integer-key': 'a2617aa10101616107',
      'depth-8-scalar': 'a2617a8181818181818101616107',
      'depth-8-empty': 'a2617a8181818181818180616107',
      'depth-9-scalar': 'a2617a818181818181818101616107',
      'depth-9-empty': 'a2617a818181818181818180616107',
      'a-fraction': 'a16161f93e00',
      'a-negative': 'a1616120',
      'a-nan': 'a16161f97e00',
      'a-infinity': 'a16161f97c00',
      'a-text': 'a161616137',
      'a-missing': 'a16162f5',
      'trailing-byte': 'a161610700',
      truncated: 'a2616107',
      'not-a-map': '8101',
      'empty-map': 'a0',
    };
    const items = Object.entries(bodies).map(([name, h]) => ({
      name,
      form: 'frame' as const,
      bytes: frameWithBody(0x81, 1, hex(h)),
    }));
    const got = decodeInC(items);
    const summary = (x: unknown): string => (typeof x === 'string' ? x.replace('error:', '') : 'ok');
    for (const i of items) {
      expect({ body: i.name, c: summary(got.get(i.name)![0]) }).toEqual({ body: i.name, c: tsKind(i.bytes) });
      if (tsKind(i.bytes) === 'ok')
        expect({ body: i.name, c: got.get(i.name)![0] }).toEqual({ body: i.name, c: decodeFrame(i.bytes) });
    }
  });

  it('agrees with the TypeScript decoder on 20 000 mutated vector frames: same outcome, same decoded value', () => {
    // Deterministic bit flips in the body of every valid vector, re-sealed with a correct CRC so each one
    // reaches both CBOR readers. Differences are allowed only where README "Decisions" documents them.
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const bases = valid.map((v) => hex(v.frame));
    const frames = Array.from({ length: 20_000 }, (_, i) => {
      const f = Buffer.from(bases[i % bases.length]);
      for (let k = 1 + (rnd() % 3); k > 0; k--) f[4 + (rnd() % (f.length - 6))] ^= 1 << (rnd() % 8);
      f.writeUInt16LE(crc16(f, 0, f.length - 2), f.length - 2);
      return f;
    });
    const got = decodeInC(frames.map((bytes, i) => ({ name: `m${i}`, form: 'frame', bytes })));
    const outcomes: Record<string, number> = {};
    const unexplained: string[] = [];
    frames.forEach((f, i) => {
      const c = got.get(`m${i}`)![0];
      const cKind = typeof c === 'string' ? c.replace('error:', '') : 'ok';
      const tKind = tsKind(f);
      outcomes[cKind] = (outcomes[cKind] ?? 0) + 1;
      if (cKind === tKind) {
        if (tKind === 'ok') {
          const ts = decodeFrame(f);
          const comparable = ts.type === 'command' ? { ...ts, body: pick(ts.body, NOTIFY_KEYS) } : ts;
          if (JSON.stringify(sortKeys(c)) !== JSON.stringify(sortKeys(comparable)))
            unexplained.push(`${f.toString('hex')}: values differ`);
        }
        return;
      }
      if (!documentedDivergence(f, cKind, tKind))
        unexplained.push(`${f.toString('hex')}: C ${cKind}, TS ${tKind}`);
    });
    expect(unexplained).toEqual([]);
    expect(Object.keys(outcomes).sort()).toEqual(['cbor', 'field', 'ok']); // the corpus exercises all three
  });

  it('rejects indefinite-length items, as PROTOCOL.md §4 states (the gateway never sends them)', () => {
    const bodies = {
      'indef-map': 'bf616107ff',
      'indef-array': 'a2617a9f01ff616107',
      'indef-text': 'a2617a7f6161ff616107',
    };
    const items = Object.entries(bodies).map(([name, h]) => ({
      name,
      form: 'frame' as const,
      bytes: frameWithBody(0x81, 1, hex(h)),
    }));
    const got = decodeInC(items);
    for (const i of items)
      expect({ body: i.name, c: got.get(i.name) }).toEqual({ body: i.name, c: ['error:cbor'] });
  });

  it('applies the device-side limits: an acked seq must be a u16', () => {
    const f = frameWithBody(0x81, 1, hex('a161611a00010000'));
    expect(decodeInC([{ name: 'ack-65536', form: 'frame', bytes: f }]).get('ack-65536')).toEqual([
      'error:field',
    ]);
  });
});

const NOTIFY_KEYS = ['c', 'text', 'led', 'buzz', 'campaign', 'signal'];

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => keys.includes(k)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

/**
 * The differences between the C and the TypeScript decoder that firmware-bridge/firmware/README.md documents:
 * C rejects indefinite-length items and all tags, as PROTOCOL.md §4 says (cbor-x accepts indefinite maps and
 * arrays, and decodes bignum and self-describe tags to plain numbers), applies the
 * device's integer widths (acked seq u16, channel and uptime u32, rssi i32), type-checks notify arguments,
 * and has fixed decode capacities (EDGE_HELLO_MAX_CHANNELS, EDGE_READING_MAX_BATCH).
 */
function documentedDivergence(f: Buffer, c: string, ts: string): boolean {
  const body = f.subarray(4, -2);
  // indefinite-length heads, or tags cbor-x turns into plain values (bignums 2/3, self-describe 55799)
  if (c === 'cbor' && ts !== 'cbor')
    return [0x5f, 0x7f, 0x9f, 0xbf, 0xc2, 0xc3, 0xd9].some((b) => body.includes(b));
  if (ts !== 'ok') return false;
  const frame = decodeFrame(f);
  if (c === 'field') {
    const u32 = (x: number | undefined): boolean => x !== undefined && x > 0xffffffff;
    switch (frame.type) {
      case 'ack':
        return frame.body.a > 0xffff;
      case 'reading':
        return frame.body.readings.some((r) => u32(r.ch));
      case 'event':
        return u32(frame.body.ch);
      case 'heartbeat':
        return (
          u32(frame.body.up) || (frame.body.rssi !== undefined && Math.abs(frame.body.rssi) > 0x7fffffff)
        );
      case 'hello':
        return frame.body.ch.some((ch) => u32(ch.n));
      case 'command':
        return (
          ['text', 'led', 'campaign', 'signal'].some(
            (k) => k in frame.body && typeof frame.body[k] !== 'string',
          ) ||
          ('buzz' in frame.body && typeof frame.body.buzz !== 'boolean')
        );
      default:
        return false;
    }
  }
  if (c === 'nospace') {
    return (
      (frame.type === 'hello' && frame.body.ch.length > 16) ||
      (frame.type === 'reading' && frame.body.readings.length > 32)
    );
  }
  return false;
}
