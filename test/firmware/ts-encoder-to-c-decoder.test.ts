/**
 * Frames the TypeScript codec encodes, decoded by the C99 firmware codec (host_test --decode); and both decoders
 * on the same unusual, invalid and mutated bodies, where they agree except for the divergences the firmware's
 * README documents.
 */
import { Encoder } from 'cbor-x';
import {
  FRAME_TYPES,
  ProtocolError,
  crc16,
  decodeFrame,
  encodeFrame,
  encodeSerialFrame,
  type GatewayFrame,
} from '../../firmware-bridge/protocol';
import { hex, hostTestPerFile } from '../support/c-firmware-host';
import { frameWithBody, validVectors } from '../support/protocol-vectors';

const host = hostTestPerFile();

function tsKind(frame: Uint8Array): string {
  try {
    decodeFrame(frame);
    return 'ok';
  } catch (e) {
    if (e instanceof ProtocolError) return e.kind;
    throw e;
  }
}

describe('TypeScript encoder → C decoder', () => {
  const gateway: Record<string, GatewayFrame> = {
    ack: { type: 'ack', seq: 3, body: { a: 7 } },
    'ack-max': { type: 'ack', seq: 65535, body: { a: 65535 } },
    identify: { type: 'command', seq: 4, body: { c: 'identify' } },
    pause: { type: 'command', seq: 5, body: { c: 'pause' } },
    resume: { type: 'command', seq: 6, body: { c: 'resume' } },
    reboot: { type: 'command', seq: 7, body: { c: 'reboot' } },
    update: { type: 'command', seq: 12, body: { c: 'update', v: '2.5.0' } },
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
    const got = host.decodeInC(
      Object.entries(gateway).map(([name, f]) => ({ name, form: 'frame', bytes: encodeFrame(f) })),
    );
    for (const [name, f] of Object.entries(gateway))
      expect({ name, got: got.get(name) }).toEqual({ name, got: [asC(f)] });
  });

  it('decodes the same frames concatenated on one serial stream, with garbage between them', () => {
    const parts: Buffer[] = [];
    for (const f of Object.values(gateway))
      parts.push(Buffer.from(encodeSerialFrame(f)), Buffer.from([0x13, 0x37, 0x00]));
    const got = host.decodeInC([{ name: 'stream', form: 'wire', bytes: Buffer.concat(parts) }]).get('stream')!;
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
    const got = host.decodeInC(items);
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
    const got = host.decodeInC(items);
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
    const bases = validVectors.map((v) => hex(v.frame));
    const frames = Array.from({ length: 20_000 }, (_, i) => {
      const f = Buffer.from(bases[i % bases.length]);
      for (let k = 1 + (rnd() % 3); k > 0; k--) f[4 + (rnd() % (f.length - 6))] ^= 1 << (rnd() % 8);
      f.writeUInt16LE(crc16(f, 0, f.length - 2), f.length - 2);
      return f;
    });
    const got = host.decodeInC(frames.map((bytes, i) => ({ name: `m${i}`, form: 'frame', bytes })));
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
          const keys = ts.type === 'command' && ts.body.c === 'update' ? [...NOTIFY_KEYS, 'v'] : NOTIFY_KEYS;
          const comparable = ts.type === 'command' ? { ...ts, body: pick(ts.body, keys) } : ts;
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
    const got = host.decodeInC(items);
    for (const i of items)
      expect({ body: i.name, c: got.get(i.name) }).toEqual({ body: i.name, c: ['error:cbor'] });
  });

  it('applies the device-side limits: an acked seq must be a u16', () => {
    const f = frameWithBody(0x81, 1, hex('a161611a00010000'));
    expect(host.decodeInC([{ name: 'ack-65536', form: 'frame', bytes: f }]).get('ack-65536')).toEqual([
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
      (frame.type === 'hello' && (frame.body.ch.length > 16 || (frame.body.cap?.length ?? 0) > 8)) ||
      (frame.type === 'reading' && frame.body.readings.length > 32)
    );
  }
  return false;
}
