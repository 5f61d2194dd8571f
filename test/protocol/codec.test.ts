import * as fc from 'fast-check';
import {
  FrameDecoder,
  ProtocolError,
  cobsDecode,
  cobsEncode,
  crc16,
  decodeDeviceFrame,
  decodeFrame,
  decodeGatewayFrame,
  encodeBody,
  encodeFrame,
  encodeSerialFrame,
  type Frame,
} from '../../firmware-bridge/protocol';
import { crcCheckVector, malformedVectors as malformed, validVectors as valid } from '../support/protocol-vectors';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('vectors.json', () => {
  it('has at least 20 valid vectors including the DESIGN §3 worked example, and malformed ones', () => {
    expect(valid.length).toBeGreaterThanOrEqual(20);
    expect(malformed.length).toBeGreaterThanOrEqual(12);
    const worked = valid.find((v) => v.name.startsWith('worked example'));
    expect(worked?.wire).toBe('04 01 02 07 0c a2 62 63 68 01 61 76 fb 40 35 80 01 01 01 01 03 9d a7 00'.replace(/ /g, ''));
  });

  it('CRC-16/CCITT-FALSE check value', () => {
    expect(crc16(Buffer.from(crcCheckVector.input))).toBe(parseInt(crcCheckVector.crc, 16));
  });
});

describe.each(valid)('valid vector: $name', (v) => {
  it('decodes the frame to the expected value', () => {
    expect(decodeFrame(hex(v.frame))).toEqual(v.expect);
  });

  it('decodes the serial wire form through the streaming decoder', () => {
    const r = new FrameDecoder().push(hex(v.wire));
    expect(r).toHaveLength(1);
    expect(r[0].ok && r[0].frame).toEqual(v.expect);
  });

  if (v.canonical) {
    it('encodes byte for byte (frame and wire)', () => {
      expect(toHex(encodeFrame(v.expect))).toBe(v.frame);
      expect(toHex(encodeSerialFrame(v.expect))).toBe(v.wire);
    });
  } else {
    it('re-encodes to a frame that decodes to the same value', () => {
      expect(decodeFrame(encodeFrame(v.expect))).toEqual(v.expect);
    });
  }
});

describe.each(malformed)('malformed vector: $name', (v) => {
  it(`is rejected as ${v.kind}`, () => {
    if (v.frame !== undefined) {
      let err: unknown;
      try {
        decodeFrame(hex(v.frame));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).kind).toBe(v.kind);
    }
    const wire = v.wire !== undefined ? hex(v.wire) : Buffer.concat([cobsEncode(hex(v.frame!)), Buffer.from([0])]);
    const d = new FrameDecoder();
    const r = d.push(wire);
    expect(r).toHaveLength(1);
    expect(r[0].ok).toBe(false);
    expect(!r[0].ok && r[0].error.kind).toBe(v.kind);
    // …and the stream is still usable afterwards.
    const after = d.push(hex(valid[0].wire));
    expect(after).toHaveLength(1);
    expect(after[0].ok).toBe(true);
  });
});

describe('device-only decoding', () => {
  it('rejects gateway-only frame types coming from a device', () => {
    const cmd = valid.find((v) => v.expect.type === 'command')!;
    expect(() => decodeDeviceFrame(hex(cmd.frame))).toThrow(expect.objectContaining({ kind: 'type' }));
    const reading = valid[0];
    expect(decodeDeviceFrame(hex(reading.frame)).type).toBe('reading');
  });
});

describe('firmware update frames: 0x06 firmware-choice, hello "cap", command "update" (PROTOCOL.md §4)', () => {
  /** a frame of `type` with `body` as CBOR, whatever the body (the codec's encoder is not asked to check it) */
  const raw = (type: number, body: object): Uint8Array => {
    const b = encodeBody(body);
    const f = new Uint8Array(6 + b.length);
    f.set([1, type, 9, 0]);
    f.set(b, 4);
    const c = crc16(f, 0, 4 + b.length);
    f.set([c & 0xff, c >> 8], 4 + b.length);
    return f;
  };
  const kindOf = (bytes: Uint8Array): string => {
    try {
      decodeFrame(bytes);
      return 'ok';
    } catch (e) {
      return (e as ProtocolError).kind;
    }
  };
  const hello = { id: 'scale-1', fw: '1.2.0', model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }] };

  it.each<[string, number, object, object | string]>([
    ['defer for 24 h', 0x06, { d: 'defer', h: 24 }, { type: 'firmware-choice', seq: 9, body: { d: 'defer', h: 24 } }],
    ['defer without h (the gateway applies 24 h)', 0x06, { d: 'defer' }, { type: 'firmware-choice', seq: 9, body: { d: 'defer' } }],
    ['defer for a month, the most', 0x06, { d: 'defer', h: 744 }, { type: 'firmware-choice', seq: 9, body: { d: 'defer', h: 744 } }],
    ['never', 0x06, { d: 'never' }, { type: 'firmware-choice', seq: 9, body: { d: 'never' } }],
    ['allow', 0x06, { d: 'allow' }, { type: 'firmware-choice', seq: 9, body: { d: 'allow' } }],
    ['an unknown extra key is ignored', 0x06, { d: 'never', x: 1 }, { type: 'firmware-choice', seq: 9, body: { d: 'never' } }],
    ['defer for 0 h', 0x06, { d: 'defer', h: 0 }, 'field'],
    ['defer for more than a month', 0x06, { d: 'defer', h: 745 }, 'field'],
    ['defer for -1 h', 0x06, { d: 'defer', h: -1 }, 'field'],
    ['defer for 1.5 h', 0x06, { d: 'defer', h: 1.5 }, 'field'],
    ['h with never', 0x06, { d: 'never', h: 3 }, 'field'],
    ['h with allow', 0x06, { d: 'allow', h: 3 }, 'field'],
    ['an unknown choice', 0x06, { d: 'later' }, 'field'],
    ['no d', 0x06, { h: 3 }, 'field'],
    ['d not text', 0x06, { d: true }, 'field'],
    ['hello with cap', 0x01, { ...hello, cap: ['update'] }, { type: 'hello', seq: 9, body: { ...hello, cap: ['update'] } }],
    ['hello with an unknown capability (kept: a newer firmware)', 0x01, { ...hello, cap: ['update', 'ota2'] }, { type: 'hello', seq: 9, body: { ...hello, cap: ['update', 'ota2'] } }],
    ['hello with cap not an array', 0x01, { ...hello, cap: 'update' }, 'field'],
    ['hello with an empty capability', 0x01, { ...hello, cap: [''] }, 'field'],
    ['hello with a capability not text', 0x01, { ...hello, cap: [1] }, 'field'],
    ['command update', 0x82, { c: 'update', v: '2.5.0' }, { type: 'command', seq: 9, body: { c: 'update', v: '2.5.0' } }],
    ['command update without v', 0x82, { c: 'update' }, 'field'],
    ['command update with an empty v', 0x82, { c: 'update', v: '' }, 'field'],
    ['command update with v not text', 0x82, { c: 'update', v: 25 }, 'field'],
  ])('%s', (_name, type, body, expected) => {
    const bytes = raw(type, body);
    if (typeof expected === 'string') expect(kindOf(bytes)).toBe(expected);
    else {
      expect(decodeFrame(bytes)).toEqual(expected);
      expect(decodeFrame(encodeFrame(expected as Frame))).toEqual(expected);
    }
  });

  it('firmware-choice is a device frame (a gateway cannot send it), the update command a gateway frame', () => {
    const choice = raw(0x06, { d: 'defer', h: 24 });
    expect(decodeDeviceFrame(choice).type).toBe('firmware-choice');
    expect(() => decodeGatewayFrame(choice)).toThrow(expect.objectContaining({ kind: 'type' }));
    const update = raw(0x82, { c: 'update', v: '2.5.0' });
    expect(decodeGatewayFrame(update).type).toBe('command');
    expect(() => decodeDeviceFrame(update)).toThrow(expect.objectContaining({ kind: 'type' }));
  });
});

describe('COBS', () => {
  it.each([
    ['', '01'],
    ['00', '0101'],
    ['0000', '010101'],
    ['11220033', '03112202 33'.replace(' ', '')],
    ['11223344', '0511223344'],
    ['1100', '021101'],
  ])('%s ⇄ %s', (raw, enc) => {
    expect(toHex(cobsEncode(hex(raw)))).toBe(enc);
    expect(toHex(cobsDecode(hex(enc)))).toBe(raw);
  });

  it('handles runs of 254+ non-zero bytes (code 0xFF blocks)', () => {
    for (const n of [253, 254, 255, 508, 600]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i % 255) + 1);
      const enc = cobsEncode(data);
      expect(enc.includes(0)).toBe(false);
      expect(toHex(cobsDecode(enc))).toBe(toHex(data));
    }
  });

  it('round-trips arbitrary bytes and never emits 0x00', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
        const enc = cobsEncode(data);
        return !enc.includes(0) && toHex(cobsDecode(enc)) === toHex(data);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('FrameDecoder (streaming)', () => {
  const stream = Buffer.concat(valid.slice(0, 8).map((v) => hex(v.wire)));
  const expected = valid.slice(0, 8).map((v) => v.expect);

  it('decodes the same frames whatever the chunk boundaries', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(got.map((r) => r.ok && r.frame)).toEqual(expected);
    }
  });

  it('decodes byte by byte', () => {
    const d = new FrameDecoder();
    const got = [];
    for (const b of stream) got.push(...d.push(Uint8Array.of(b)));
    expect(got.map((r) => r.ok && r.frame)).toEqual(expected);
  });

  it('resynchronises at the next 0x00 after garbage and ignores empty runs', () => {
    const d = new FrameDecoder();
    const r = d.push(Buffer.concat([Buffer.from([0, 0, 0x13, 0x37, 0xff, 0x00, 0x00]), hex(valid[0].wire)]));
    expect(r).toHaveLength(2);
    expect(r[0].ok).toBe(false);
    expect(r[1].ok && r[1].frame).toEqual(valid[0].expect);
  });

  it('discards an oversized run once, keeps memory bounded, then decodes the next frame', () => {
    const d = new FrameDecoder();
    const r1 = d.push(new Uint8Array(10_000).fill(0x42));
    expect(r1.map((r) => !r.ok && r.error.kind)).toEqual(['oversize']);
    expect(d.push(new Uint8Array(10_000).fill(0x42))).toEqual([]); // still inside the same run: no new report
    const r2 = d.push(Buffer.concat([Buffer.from([0x00]), hex(valid[0].wire)]));
    expect(r2).toHaveLength(1);
    expect(r2[0].ok).toBe(true);
  });

  it('accepts a run of exactly the cap and rejects one byte more', () => {
    const d = new FrameDecoder({ maxEncodedLength: 30 });
    const w = hex(valid[0].wire); // 23 encoded bytes + delimiter
    expect(d.push(w)[0].ok).toBe(true);
    const small = new FrameDecoder({ maxEncodedLength: w.length - 2 });
    expect(small.push(w).map((r) => !r.ok && r.error.kind)).toEqual(['oversize']);
  });

  it('never throws on random garbage and always resynchronises', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) d.push(c);
        const r = d.push(Buffer.concat([Buffer.from([0]), hex(valid[0].wire)]));
        const last = r[r.length - 1];
        return last !== undefined && last.ok && last.frame.type === 'reading';
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('round trip of random frames', () => {
  const category = fc.constantFrom('environment', 'presence', 'usage', 'location', 'health', 'biometric' as const);
  const seq = fc.integer({ min: 0, max: 0xffff });
  const num = fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }));
  const uint = fc.integer({ min: 0, max: 2 ** 32 });
  const reading = fc.record({ ch: fc.integer({ min: 0, max: 255 }), v: num, t: fc.option(uint, { nil: undefined }) }).map((r) =>
    r.t === undefined ? { ch: r.ch, v: r.v } : r,
  );
  const frame: fc.Arbitrary<Frame> = fc.oneof(
    fc.record({ type: fc.constant('reading' as const), seq, body: fc.record({ readings: fc.array(reading, { minLength: 1, maxLength: 5 }) }) }),
    fc.record({ type: fc.constant('event' as const), seq, body: fc.record({ e: fc.string({ minLength: 1, maxLength: 20 }) }) }),
    fc.record({ type: fc.constant('consent' as const), seq, body: fc.record({ s: fc.oneof(fc.constant('device'), category), g: fc.boolean() }) }),
    fc.record({ type: fc.constant('heartbeat' as const), seq, body: fc.record({ up: uint }) }),
    fc.record({ type: fc.constant('ack' as const), seq, body: fc.record({ a: seq }) }),
    fc.record({
      type: fc.constant('hello' as const),
      seq,
      body: fc.record({
        id: fc.string({ minLength: 1, maxLength: 16 }),
        fw: fc.string({ maxLength: 8 }),
        model: fc.string({ maxLength: 16 }),
        ch: fc.array(fc.record({ n: fc.integer({ min: 0, max: 32 }), k: fc.string({ minLength: 1, maxLength: 8 }), c: category }), { maxLength: 4 }),
      }),
    }),
    fc.record({ type: fc.constant('consent-state' as const), seq, body: fc.record({ cats: fc.dictionary(category, fc.boolean()) }) }),
    fc.record({
      type: fc.constant('firmware-choice' as const),
      seq,
      body: fc.oneof(
        fc.record({ d: fc.constant('defer' as const), h: fc.integer({ min: 1, max: 744 }) }, { requiredKeys: ['d'] }),
        fc.record({ d: fc.constantFrom('defer' as const, 'never' as const, 'allow' as const) }),
      ),
    }),
  );

  it('decode(encode(f)) = f, through the serial stream too', () => {
    fc.assert(
      fc.property(frame, (f) => {
        expect(decodeFrame(encodeFrame(f))).toEqual(f);
        const r = new FrameDecoder({ maxEncodedLength: 4096 }).push(encodeSerialFrame(f));
        expect(r[0].ok && r[0].frame).toEqual(f);
      }),
      { numRuns: 500, seed: 1234 },
    );
  });

  it('small maps are encoded in the shortest form (a1..b7, never map16)', () => {
    const f = encodeFrame({ type: 'ack', seq: 1, body: { a: 2 } });
    expect(f[4]).toBe(0xa1);
  });
});
