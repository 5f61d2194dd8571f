import * as fc from 'fast-check';
import { Encoder } from 'cbor-x';
import {
  FrameDecoder,
  MAX_ENCODED_RUN,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  encodeSerialFrame,
  type DeviceFrame,
} from '../../firmware-bridge/protocol';
import { checkBodyForm, decodeBody } from '../../firmware-bridge/protocol/cbor-body';
import { frameWithBody } from '../support/protocol-vectors';

// Seeds are fixed so a failure replays exactly; fast-check prints the counterexample and the seed.
const SEED = 20261201;
const KINDS = new Set(['short', 'version', 'crc', 'type', 'cbor', 'field', 'cobs', 'oversize']);

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const deviceFrame: fc.Arbitrary<DeviceFrame> = fc.oneof(
  fc.record({
    type: fc.constant('reading' as const),
    seq: fc.integer({ min: 0, max: 0xffff }),
    body: fc.record({ readings: fc.array(fc.record({ ch: fc.nat(255), v: fc.double({ noNaN: true, noDefaultInfinity: true }) }), { minLength: 1, maxLength: 8 }) }),
  }),
  fc.record({
    type: fc.constant('event' as const),
    seq: fc.integer({ min: 0, max: 0xffff }),
    body: fc.record({ e: fc.string({ minLength: 1, maxLength: 20 }), ch: fc.nat(255) }),
  }),
  fc.record({ type: fc.constant('heartbeat' as const), seq: fc.integer({ min: 0, max: 0xffff }), body: fc.record({ up: fc.nat() }) }),
);

function expectProtocolError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(KINDS.has((err as ProtocolError).kind)).toBe(true);
  }
}

describe('serial stream decoder under hostile input (COBS + 0x00 framing)', () => {
  it('never throws, never returns an unknown error kind, and keeps memory bounded on random bytes in random chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 900 }), { maxLength: 20 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) {
          for (const r of d.push(c)) {
            if (!r.ok) expect(KINDS.has(r.error.kind)).toBe(true);
            expect(r.raw.length).toBeLessThanOrEqual(MAX_ENCODED_RUN);
          }
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('recovers every valid frame that follows garbage once a 0x00 has resynchronised the line', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 700 }), deviceFrame), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 64 }),
        (pieces, chunkSize) => {
          // garbage, then a delimiter, then the frame: the garbage may swallow nothing of the frame
          const parts: Uint8Array[] = [];
          for (const [garbage, frame] of pieces) parts.push(garbage, Uint8Array.of(0), encodeSerialFrame(frame));
          const wire = Buffer.concat(parts);
          const d = new FrameDecoder();
          const got: DeviceFrame[] = [];
          for (let i = 0; i < wire.length; i += chunkSize) {
            for (const r of d.push(wire.subarray(i, i + chunkSize))) if (r.ok) got.push(r.frame as DeviceFrame);
          }
          // Garbage can itself decode to a valid frame only with a 1-in-65536 CRC match; the real ones must all be there, in order.
          const want = pieces.map(([, f]) => JSON.stringify(decodeFrame(encodeFrame(f))));
          const seen = got.map((f) => JSON.stringify(f));
          let j = 0;
          for (const s of seen) if (s === want[j]) j++;
          expect(j).toBe(want.length);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('flipping any bit of a valid frame yields a ProtocolError or (rarely) another valid frame, never a throw', () => {
    fc.assert(
      fc.property(deviceFrame, fc.nat(), fc.integer({ min: 0, max: 7 }), (frame, at, bit) => {
        const bytes = encodeFrame(frame);
        bytes[at % bytes.length] ^= 1 << bit;
        expectProtocolError(() => decodeFrame(bytes));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('BLE single frames (no COBS) under hostile input', () => {
  it('decodeFrame on random bytes only ever throws a ProtocolError of a known kind', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => expectProtocolError(() => decodeFrame(bytes))),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('random bodies behind a valid header and CRC reach the CBOR checks and are rejected cleanly or decoded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ minLength: 1, maxLength: 300 }), (type, body) => {
        expectProtocolError(() => decodeFrame(frameWithBody(type, 1, body)));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('CBOR bodies: only what PROTOCOL.md §4 allows', () => {
  const reject = (name: string, body: string): void => {
    it(`rejects ${name}`, () => {
      expect(() => decodeBody(hex(body))).toThrow(ProtocolError);
      expect(() => decodeFrame(frameWithBody(0x02, 7, hex(body)))).toThrow(expect.objectContaining({ kind: 'cbor' }));
    });
  };
  // {"ch": 1, "v": c2 01}: a bignum tag around an integer; cbor-x used to read it as the integer 0
  reject('a bignum tag inside a body (c2 01)', 'a2 62 63 68 01 61 76 c2 01');
  reject('a positive bignum tag around a byte string', 'a2 62 63 68 01 61 76 c2 41 05');
  reject('a date tag', 'a2 62 63 68 01 61 76 c1 1a 5f 5e 10 00');
  reject('an indefinite-length map', 'bf 62 63 68 01 61 76 01 ff');
  reject('an indefinite-length array inside a body', 'a1 61 72 9f 82 01 01 ff');
  reject('an indefinite-length text string', 'a2 62 63 68 01 61 76 7f 61 61 ff');
  reject('a byte string value', 'a2 62 63 68 01 61 76 41 00');
  reject('undefined (f7)', 'a2 62 63 68 01 61 76 f7');
  reject('a simple value (f8 20)', 'a2 62 63 68 01 61 76 f8 20');
  reject('a stray break (ff)', 'a1 62 63 68 ff');
  reject('reserved additional info (1c)', 'a2 62 63 68 1c 61 76 01');
  reject('an integer map key', 'a1 01 01');
  reject('bytes after the map', 'a2 62 63 68 01 61 76 01 00');
  reject('a map claiming 2^64-1 entries', 'bb ff ff ff ff ff ff ff ff');
  reject('a text string claiming 4 GiB', 'a1 7a ff ff ff ff 61');
  reject('an array claiming 2^32-1 items', 'a1 61 72 9a ff ff ff ff');
  reject('a truncated double', 'a2 62 63 68 01 61 76 fb 40 35');
  reject('nesting 9 deep', `a1 61 72 ${'81 '.repeat(8)}01`);
  reject('nesting 10,000 deep', `a1 61 72 ${'81 '.repeat(10_000)}01`);

  it('still accepts every valid width the protocol allows (map16, uint64, half and single floats)', () => {
    expect(decodeBody(hex('b9 00 02 62 63 68 01 61 76 f9 3c 00'))).toEqual(new Map<string, number>([['ch', 1], ['v', 1]]));
    expect(decodeBody(hex('a2 62 63 68 1b 00 00 00 00 00 00 00 01 61 76 fa 41 ac 00 00')).get('v')).toBe(21.5);
    expect(decodeBody(hex('a1 61 76 3b 00 00 00 00 00 00 00 09')).get('v')).toBe(-10);
    expect(() => decodeBody(hex('a1 61 76 1b 00 20 00 00 00 00 00 00'))).toThrow(ProtocolError); // 2^53: not exact
  });

  it('the form check agrees with a real encoder: every plain JSON-like body passes and decodes to the same value', () => {
    const enc = new Encoder({ variableMapSize: true, useRecords: false, mapsAsObjects: true, tagUint8Array: false });
    const leaf = fc.oneof(fc.boolean(), fc.constant(null), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 30 }));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small', maxDepth: 5 }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 6 }), (body) => {
        const bytes = enc.encode(body) as Uint8Array;
        expect(() => checkBodyForm(bytes)).not.toThrow();
        const back = decodeBody(bytes);
        expect(back).toBeInstanceOf(Map);
        expect([...back.keys()].sort()).toEqual(Object.keys(body).sort());
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('anything the encoder makes with tags, byte strings or 2^53+ integers is rejected, never crashes', () => {
    const enc = new Encoder({ useRecords: false, mapsAsObjects: true });
    const hostile = fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.date({ noInvalidDate: true }), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }));
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), hostile, (k, v) => {
        const bytes = enc.encode({ [k]: v }) as Uint8Array;
        expect(() => decodeBody(bytes)).toThrow(ProtocolError);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
