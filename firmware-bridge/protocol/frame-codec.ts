import { decodeBody, encodeBody } from './cbor-body';
import { cobsEncode } from './cobs';
import { crc16 } from './crc16';
import { ProtocolError } from './errors';
import { FRAME_TYPES, GATEWAY_ONLY, TYPE_BY_CODE, bodyOf, frameFromBody, type DeviceFrame, type Frame, type GatewayFrame } from './frames';

export const PROTOCOL_VERSION = 0x01;
/** version + type + seq (2) + smallest body (A0) + CRC (2) */
export const MIN_FRAME_LENGTH = 7;

/**
 * Decodes one decoded (un-COBSed) frame: version | type | seq u16le | CBOR map | CRC-16 u16le.
 * The CRC is checked before anything else is parsed, so line noise never reaches the CBOR decoder.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < MIN_FRAME_LENGTH) throw new ProtocolError('short', `frame of ${bytes.length} bytes is shorter than ${MIN_FRAME_LENGTH}`);
  const end = bytes.length - 2;
  const crc = bytes[end] | (bytes[end + 1] << 8);
  const expected = crc16(bytes, 0, end);
  if (crc !== expected) {
    throw new ProtocolError('crc', `CRC mismatch: frame says 0x${crc.toString(16).padStart(4, '0')}, computed 0x${expected.toString(16).padStart(4, '0')}`);
  }
  if (bytes[0] !== PROTOCOL_VERSION) throw new ProtocolError('version', `unsupported protocol version ${bytes[0]}`);
  const type = TYPE_BY_CODE.get(bytes[1]);
  if (type === undefined) throw new ProtocolError('type', `unknown frame type 0x${bytes[1].toString(16).padStart(2, '0')}`);
  const seq = bytes[2] | (bytes[3] << 8);
  return frameFromBody(type, seq, decodeBody(bytes.subarray(4, end)));
}

/**
 * As decodeFrame, but only frames a device may send: a gateway-only type (command, consent-state) from a device is
 * a protocol error, counted as a bad frame like any other on every transport.
 */
export function decodeDeviceFrame(bytes: Uint8Array): DeviceFrame {
  const f = decodeFrame(bytes);
  if (GATEWAY_ONLY.has(f.type)) throw new ProtocolError('type', `frame type ${f.type} is gateway → device only`);
  return f as DeviceFrame;
}

/** The device's side of decodeDeviceFrame: only frames the gateway may send (simulated devices, firmware tests). */
export function decodeGatewayFrame(bytes: Uint8Array): GatewayFrame {
  const f = decodeFrame(bytes);
  if (f.type !== 'ack' && !GATEWAY_ONLY.has(f.type)) throw new ProtocolError('type', `frame type ${f.type} is device → gateway only`);
  return f as GatewayFrame;
}

export function encodeFrame(frame: Frame): Uint8Array {
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq > 0xffff) throw new RangeError(`seq ${frame.seq} is not a u16`);
  const body = encodeBody(bodyOf(frame));
  const out = new Uint8Array(4 + body.length + 2);
  out[0] = PROTOCOL_VERSION;
  out[1] = FRAME_TYPES[frame.type];
  out[2] = frame.seq & 0xff;
  out[3] = frame.seq >> 8;
  out.set(body, 4);
  const crc = crc16(out, 0, 4 + body.length);
  out[4 + body.length] = crc & 0xff;
  out[5 + body.length] = crc >> 8;
  return out;
}

/** Serial wire form: COBS(frame) followed by one 0x00 delimiter. */
export function encodeSerialFrame(frame: Frame): Uint8Array {
  const cobs = cobsEncode(encodeFrame(frame));
  const out = new Uint8Array(cobs.length + 1);
  out.set(cobs, 0);
  return out;
}
