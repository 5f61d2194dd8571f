import { createHash } from 'node:crypto';

/**
 * Reads an ESP-IDF application/bootloader image (esp_image_format.h) and says what is wrong with it, before
 * anything touches a device. Pure: bytes in, findings out.
 *
 * Layout: 24-byte header (magic 0xE9, segment count, flash mode/size/freq, entry, 16-byte extended header with
 * the chip id and `hash_appended`), then `segment count` × (8-byte segment header + data), zero padding so the
 * checksum byte ends a 16-byte block, the checksum (XOR of all segment data seeded with 0xEF), and, when
 * `hash_appended` is 1, the SHA-256 of everything before it.
 */

export const ESP_IMAGE_MAGIC = 0xe9;
export const ESP_APP_DESC_MAGIC = 0xabcd5432;
const HEADER_LEN = 24;
const SEGMENT_HEADER_LEN = 8;
const CHECKSUM_SEED = 0xef;
/** ESP-IDF refuses more than this many segments (ESP_IMAGE_MAX_SEGMENTS). */
const MAX_SEGMENTS = 16;
const APP_DESC_LEN = 256;

/** esp_chip_id_t values in the extended header, named as esptool-js names the chips it detects. */
export const CHIP_IDS: Readonly<Record<number, string>> = {
  0x0000: 'ESP32',
  0x0002: 'ESP32-S2',
  0x0005: 'ESP32-C3',
  0x0009: 'ESP32-S3',
  0x000c: 'ESP32-C2',
  0x000d: 'ESP32-C6',
  0x0010: 'ESP32-H2',
  0x0012: 'ESP32-P4',
  0x0014: 'ESP32-C61',
  0x0017: 'ESP32-C5',
};

export const chipName = (id: number): string =>
  CHIP_IDS[id] ?? `unknown chip id 0x${id.toString(16).padStart(4, '0')}`;

export interface EspAppDescriptor {
  projectName: string;
  version: string;
  idfVersion: string;
  compileTime: string;
  compileDate: string;
  secureVersion: number;
}

export interface EspImageSegment {
  loadAddress: number;
  length: number;
  /** offset of the segment data in the file */
  fileOffset: number;
}

export type ImageProblemCode =
  | 'truncated'
  | 'bad-magic'
  | 'segment-count'
  | 'segment-overrun'
  | 'checksum'
  | 'sha256'
  | 'chip-mismatch'
  // partition table and layout checks (partition-table-inspector.ts)
  | 'partition-table'
  | 'partition-md5'
  | 'app-placement';

export interface ImageProblem {
  code: ImageProblemCode;
  message: string;
}

export interface EspImageInspection {
  /** the header parsed far enough to name the chip; false for data that is not an ESP image at all */
  isEspImage: boolean;
  chipId: number | null;
  segments: EspImageSegment[];
  entryPoint: number | null;
  hashAppended: boolean;
  /** checksum byte and digest verified (null: not reached because the image is broken earlier) */
  checksumOk: boolean | null;
  sha256Ok: boolean | null;
  /** bytes the image format covers, including checksum and appended digest */
  imageLength: number | null;
  appDescriptor: EspAppDescriptor | null;
  problems: ImageProblem[];
}

const cString = (b: Uint8Array, offset: number, len: number): string => {
  const slice = b.subarray(offset, offset + len);
  const end = slice.indexOf(0);
  return Buffer.from(end < 0 ? slice : slice.subarray(0, end)).toString('utf8');
};

/** esp_app_desc_t, which ESP-IDF places at the very start of the first (DROM) segment of an app. */
export function parseAppDescriptor(segmentData: Uint8Array): EspAppDescriptor | null {
  if (segmentData.length < APP_DESC_LEN) return null;
  const view = new DataView(segmentData.buffer, segmentData.byteOffset, segmentData.byteLength);
  if (view.getUint32(0, true) !== ESP_APP_DESC_MAGIC) return null;
  return {
    secureVersion: view.getUint32(4, true),
    version: cString(segmentData, 16, 32),
    projectName: cString(segmentData, 48, 32),
    compileTime: cString(segmentData, 80, 16),
    compileDate: cString(segmentData, 96, 16),
    idfVersion: cString(segmentData, 112, 32),
  };
}

/**
 * A SHA-256 of `bytes[0..length)` computed already (a download hashes its chunks as they arrive): used for the
 * appended digest's check when the image's digest covers exactly that prefix, instead of hashing it again.
 */
export interface KnownSha256 {
  length: number;
  digest: Uint8Array;
}

/** XOR of bytes[start..end), four bytes at a time where they are aligned (a 1 MB image: ~4x fewer steps). */
function xorBytes(bytes: Uint8Array, start: number, end: number): number {
  let acc = 0;
  let i = start;
  for (; i < end && (bytes.byteOffset + i) % 4 !== 0; i++) acc ^= bytes[i];
  const words = Math.floor((end - i) / 4);
  if (words > 0) {
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    let x = 0;
    for (let k = 0; k < words; k++) x ^= w[k];
    acc ^= (x ^ (x >>> 8) ^ (x >>> 16) ^ (x >>> 24)) & 0xff;
    i += words * 4;
  }
  for (; i < end; i++) acc ^= bytes[i];
  return acc;
}

/**
 * Inspects `bytes` as an ESP image. With `expectedChipId` (the chip esptool-js detected), an image built for
 * another chip is a problem too.
 */
export function inspectEspImage(bytes: Uint8Array, expectedChipId?: number, known?: KnownSha256): EspImageInspection {
  const result: EspImageInspection = {
    isEspImage: false,
    chipId: null,
    segments: [],
    entryPoint: null,
    hashAppended: false,
    checksumOk: null,
    sha256Ok: null,
    imageLength: null,
    appDescriptor: null,
    problems: [],
  };
  const problem = (code: ImageProblemCode, message: string): EspImageInspection => {
    result.problems.push({ code, message });
    return result;
  };
  if (bytes.length < HEADER_LEN)
    return problem('truncated', `only ${bytes.length} bytes: shorter than an ESP image header (24)`);
  if (bytes[0] !== ESP_IMAGE_MAGIC) {
    return problem(
      'bad-magic',
      `first byte is 0x${bytes[0].toString(16).padStart(2, '0')}, not the ESP image magic 0xe9`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  result.isEspImage = true;
  result.entryPoint = view.getUint32(4, true);
  result.chipId = view.getUint16(12, true);
  result.hashAppended = bytes[23] === 1;
  if (expectedChipId !== undefined && result.chipId !== expectedChipId) {
    problem(
      'chip-mismatch',
      `image is built for ${chipName(result.chipId)}, but the device is ${chipName(expectedChipId)}`,
    );
  }
  const segmentCount = bytes[1];
  if (segmentCount === 0 || segmentCount > MAX_SEGMENTS) {
    return problem(
      'segment-count',
      `header says ${segmentCount} segments (an ESP image has 1 to ${MAX_SEGMENTS})`,
    );
  }
  let offset = HEADER_LEN;
  let checksum = CHECKSUM_SEED;
  for (let i = 0; i < segmentCount; i++) {
    if (offset + SEGMENT_HEADER_LEN > bytes.length) {
      return problem(
        'truncated',
        `file ends inside the header of segment ${i + 1} of ${segmentCount} (at byte ${offset})`,
      );
    }
    const loadAddress = view.getUint32(offset, true);
    const length = view.getUint32(offset + 4, true);
    const dataStart = offset + SEGMENT_HEADER_LEN;
    if (dataStart + length > bytes.length) {
      return problem(
        'segment-overrun',
        `segment ${i + 1} of ${segmentCount} claims ${length} bytes at byte ${dataStart}, past the end of the ${bytes.length}-byte file (truncated download?)`,
      );
    }
    result.segments.push({ loadAddress, length, fileOffset: dataStart });
    checksum ^= xorBytes(bytes, dataStart, dataStart + length);
    offset = dataStart + length;
  }
  // The checksum byte is the last byte of the 16-byte block the segments end in.
  const checksumOffset = offset + (15 - (offset % 16));
  if (checksumOffset >= bytes.length)
    return problem('truncated', `file ends before the image checksum (byte ${checksumOffset})`);
  result.checksumOk = bytes[checksumOffset] === checksum;
  let end = checksumOffset + 1;
  if (!result.checksumOk) {
    problem(
      'checksum',
      `checksum byte is 0x${bytes[checksumOffset].toString(16).padStart(2, '0')}, the segments give 0x${checksum.toString(16).padStart(2, '0')} (corrupted image)`,
    );
  }
  if (result.hashAppended) {
    if (end + 32 > bytes.length)
      return problem(
        'truncated',
        `header says a SHA-256 is appended, but the file ends ${end + 32 - bytes.length} bytes short of it`,
      );
    const digest =
      known?.length === end ? known.digest : createHash('sha256').update(bytes.subarray(0, end)).digest();
    result.sha256Ok = Buffer.compare(digest, bytes.subarray(end, end + 32)) === 0;
    if (!result.sha256Ok)
      problem('sha256', 'appended SHA-256 does not match the image contents (corrupted or modified image)');
    end += 32;
  }
  result.imageLength = end;
  const first = result.segments[0];
  result.appDescriptor = parseAppDescriptor(
    bytes.subarray(first.fileOffset, first.fileOffset + first.length),
  );
  return result;
}

/** One line for a refusal: what is wrong with which file, and how to go ahead anyway. */
export function describeProblems(what: string, problems: readonly ImageProblem[]): string {
  return `${what}: ${problems.map((p) => p.message).join('; ')}`;
}
