/** Frames the C99 firmware codec encodes, decoded by the TypeScript codec, and byte for byte against its encoder. */
import { FrameDecoder, decodeDeviceFrame, encodeFrame, type Frame } from '../../firmware-bridge/protocol';
import { hex, hostTestPerFile, toHex } from '../support/c-firmware-host';

const host = hostTestPerFile();

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
    'hello-caps': {
      type: 'hello',
      seq: 0,
      body: { id: 'scale-7', fw: '2.4.0', model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }], cap: ['update', 'x-future'] },
    },
    'firmware-defer': { type: 'firmware-choice', seq: 110, body: { d: 'defer', h: 24 } },
    'firmware-defer-month': { type: 'firmware-choice', seq: 111, body: { d: 'defer', h: 744 } },
    'firmware-never': { type: 'firmware-choice', seq: 112, body: { d: 'never' } },
    'firmware-allow': { type: 'firmware-choice', seq: 113, body: { d: 'allow' } },
  };
  let emitted: Map<string, { frame: Buffer; wire: Buffer }>;
  beforeAll(() => {
    const r = host.run(['--emit']);
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
      'hello-caps',
      'firmware-defer',
      'firmware-defer-month',
      'firmware-never',
      'firmware-allow',
    ]) {
      expect({ name, hex: toHex(emitted.get(name)!.frame) }).toEqual({
        name,
        hex: toHex(encodeFrame(expected[name])),
      });
    }
  });
});
