import vectors from '../../firmware-bridge/protocol/vectors.json';
import { crc16, type Frame, type ProtocolErrorKind } from '../../firmware-bridge/protocol';

/** The shared vectors (firmware-bridge/protocol/vectors.json) as the TypeScript and C codec tests read them. */
export interface ValidVector {
  name: string;
  /** the decoded frame, hex */
  frame: string;
  /** the same frame on a serial line (COBS + delimiter), hex */
  wire: string;
  expect: Frame;
  /** the encoder writes exactly these bytes */
  canonical: boolean;
}
export interface MalformedVector {
  name: string;
  kind: ProtocolErrorKind;
  frame?: string;
  wire?: string;
}
export const validVectors = vectors.valid as unknown as ValidVector[];
export const malformedVectors = vectors.malformed as unknown as MalformedVector[];
/** CRC-16/CCITT-FALSE of `input` is `crc` (hex) */
export const crcCheckVector: { input: string; crc: string } = vectors.crcCheck;

/** A decoded frame around an arbitrary body (valid header and CRC), so the body reaches the CBOR decoder. */
export function frameWithBody(type: number, seq: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + body.length + 2);
  out[0] = 1;
  out[1] = type;
  out.writeUInt16LE(seq, 2);
  Buffer.from(body).copy(out, 4);
  out.writeUInt16LE(crc16(out, 0, 4 + body.length), 4 + body.length);
  return out;
}
