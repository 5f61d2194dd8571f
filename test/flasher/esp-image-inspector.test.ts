import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  chipName,
  describeProblems,
  inspectEspImage,
  type ImageProblemCode,
} from '../../firmware-bridge/flasher/esp-image-inspector';
import { buildEspImage } from '../support/esp-rom-sim';

/** Recomputes checksum and digest after an edit, so a test breaks exactly one thing. */
function resealed(image: Buffer, digest = true): Buffer {
  const b = Buffer.from(image);
  const segCount = b[1];
  let off = 24;
  let sum = 0xef;
  for (let i = 0; i < segCount; i++) {
    const len = b.readUInt32LE(off + 4);
    for (let j = off + 8; j < off + 8 + len; j++) sum ^= b[j];
    off += 8 + len;
  }
  const ck = off + (15 - (off % 16));
  b[ck] = sum;
  if (digest && b[23] === 1)
    createHash('sha256')
      .update(b.subarray(0, ck + 1))
      .digest()
      .copy(b, ck + 1);
  return b;
}

describe('EspImageInspector', () => {
  const app = buildEspImage({
    size: 8 * 1024,
    appDescriptor: { projectName: 'presence', version: 'v1.2.3-rc1', idfVersion: 'v5.3.1' },
  });

  it('reads a well-formed app: chip, segments, checksum, SHA-256 and the app descriptor', () => {
    const r = inspectEspImage(app, 0);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({
      isEspImage: true,
      chipId: 0,
      hashAppended: true,
      checksumOk: true,
      sha256Ok: true,
      imageLength: app.length,
      entryPoint: 0x40080400,
    });
    expect(r.segments.map((s) => s.loadAddress)).toEqual([0x3f400020, 0x3ffb0000, 0x40080000]);
    expect(r.appDescriptor).toMatchObject({
      projectName: 'presence',
      version: 'v1.2.3-rc1',
      idfVersion: 'v5.3.1',
      secureVersion: 0,
    });
  });

  it('accepts an image without appended digest or app descriptor (a bootloader)', () => {
    const boot = buildEspImage({ size: 4096, appDescriptor: null, hashAppended: false });
    const r = inspectEspImage(boot, 0);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({
      hashAppended: false,
      sha256Ok: null,
      checksumOk: true,
      appDescriptor: null,
      imageLength: boot.length,
    });
  });

  const mutate = (f: (b: Buffer) => void, checksumOnly = false): Buffer => {
    const b = Buffer.from(app);
    f(b);
    return checksumOnly ? resealed(b, false) : b;
  };
  const flipped = (b: Buffer): Buffer => {
    b[400] ^= 0x20;
    return b;
  };
  const cases: Array<[string, ImageProblemCode, Uint8Array, number | undefined, RegExp]> = [
    ['empty file', 'truncated', new Uint8Array(0), undefined, /only 0 bytes/],
    ['header cut short', 'truncated', app.subarray(0, 20), undefined, /shorter than an ESP image header/],
    ['wrong magic', 'bad-magic', mutate((b) => (b[0] = 0x7f)), undefined, /first byte is 0x7f/],
    ['zero segments', 'segment-count', mutate((b) => (b[1] = 0)), undefined, /header says 0 segments/],
    [
      '17 segments',
      'segment-count',
      mutate((b) => (b[1] = 17)),
      undefined,
      /header says 17 segments \(an ESP image has 1 to 16\)/,
    ],
    [
      'segment longer than the file',
      'segment-overrun',
      mutate((b) => b.writeUInt32LE(0x100000, 28)),
      undefined,
      /segment 1 of 3 claims 1048576 bytes/,
    ],
    [
      'file ends in a segment header',
      'truncated',
      app.subarray(0, 28),
      undefined,
      /ends inside the header of segment 1/,
    ],
    [
      'file ends before the checksum',
      'truncated',
      app.subarray(0, app.length - 40),
      undefined,
      /ends before the image checksum/,
    ],
    [
      'digest cut off',
      'truncated',
      app.subarray(0, app.length - 10),
      undefined,
      /SHA-256 is appended, but the file ends 10 bytes short/,
    ],
    [
      'flipped data byte, no digest appended',
      'checksum',
      flipped(buildEspImage({ size: 8 * 1024, hashAppended: false })),
      undefined,
      /checksum byte is 0x[0-9a-f]{2}, the segments give/,
    ],
    [
      'flipped data byte, checksum fixed up',
      'sha256',
      mutate((b) => (b[400] ^= 0x20), true),
      undefined,
      /^((?!checksum).)*SHA-256 does not match/,
    ],
    [
      'edited digest',
      'sha256',
      mutate((b) => (b[b.length - 1] ^= 1)),
      undefined,
      /appended SHA-256 does not match/,
    ],
    [
      'built for ESP32-S3, device ESP32',
      'chip-mismatch',
      resealed(mutate((b) => b.writeUInt16LE(9, 12))),
      0,
      /built for ESP32-S3, but the device is ESP32$/,
    ],
    [
      'built for ESP32, device ESP32-C3',
      'chip-mismatch',
      app,
      5,
      /built for ESP32, but the device is ESP32-C3/,
    ],
    [
      'unknown chip id',
      'chip-mismatch',
      resealed(mutate((b) => b.writeUInt16LE(0x77, 12))),
      0,
      /unknown chip id 0x0077/,
    ],
  ];
  it.each(cases)('%s → %s', (_name, code, bytes, chip, message) => {
    const r = inspectEspImage(bytes, chip);
    expect(r.problems.map((p) => p.code)).toEqual([code]);
    expect(r.problems[0].message).toMatch(message);
  });

  it('a changed data byte with a digest appended fails both checksum and digest', () => {
    const b = Buffer.from(app);
    b[400] ^= 0x20;
    expect(inspectEspImage(b).problems.map((p) => p.code)).toEqual(['checksum', 'sha256']);
  });

  it('the checksum byte: word-wise XOR agrees with a byte-by-byte oracle at every alignment and flipped byte', () => {
    const naiveChecksumOk = (b: Uint8Array): boolean => {
      const v = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      let off = 24;
      let sum = 0xef;
      for (let i = 0; i < v[1]; i++) {
        const len = v.readUInt32LE(off + 4);
        for (let j = off + 8; j < off + 8 + len; j++) sum ^= v[j];
        off += 8 + len;
      }
      return v[off + (15 - (off % 16))] === sum;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 64 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 0, max: 255 }),
        (at, kib, flipAt, bits) => {
          const image = buildEspImage({ size: kib * 256 + at, seed: kib, hashAppended: false, appDescriptor: null });
          // placed at an odd offset in a larger buffer: the Int32Array view must start aligned
          const room = new Uint8Array(image.length + 8);
          room.set(image, at);
          const b = room.subarray(at, at + image.length);
          if (flipAt !== undefined) b[24 + (flipAt % (b.length - 24))] ^= bits;
          const r = inspectEspImage(b);
          // a flip in a segment header may end the parse before the checksum (then there is nothing to compare)
          if (r.checksumOk !== null) expect(r.checksumOk).toBe(naiveChecksumOk(b));
          else expect(flipAt).toBeDefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a SHA-256 known already is used for the appended digest when it covers exactly what the digest covers', () => {
    const end = app.length - 32;
    const right = createHash('sha256').update(app.subarray(0, end)).digest();
    expect(inspectEspImage(app, 0, { length: end, digest: right }).problems).toEqual([]);
    // used, not recomputed: a wrong one fails the image
    const wrong = Buffer.from(right);
    wrong[0] ^= 1;
    expect(inspectEspImage(app, 0, { length: end, digest: wrong }).problems.map((p) => p.code)).toEqual(['sha256']);
    // a digest of another prefix is not the one the image's covers: computed from the bytes instead
    expect(inspectEspImage(app, 0, { length: end - 1, digest: wrong }).problems).toEqual([]);
  });

  it('without a detected chip, any chip id is fine', () => {
    expect(inspectEspImage(resealed(mutate((b) => b.writeUInt16LE(9, 12)))).problems).toEqual([]);
  });

  it('a refusal line names the file and every problem', () => {
    const r = inspectEspImage(mutate((b) => (b[400] ^= 0x20)));
    expect(describeProblems('app.bin at 0x10000', r.problems)).toMatch(
      /^app\.bin at 0x10000: checksum byte .*; appended SHA-256 does not match/,
    );
    expect(chipName(0x0d)).toBe('ESP32-C6');
  });
});
