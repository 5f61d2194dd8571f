import { Decoder, Encoder } from 'cbor-x';
import { ProtocolError } from './errors';

/** A decoded CBOR value restricted to what frame bodies may contain (no tags, no byte strings). */
export type CborValue = number | string | boolean | null | CborValue[] | CborMap;
export type CborMap = Map<string, CborValue>;

// Shortest form on the way out (small maps as a0..b7, not map16) because devices parse what we send with tiny
// decoders; readers accept any valid form. Records/structured-clone extensions are off: plain RFC 8949 only.
const encoder = new Encoder({ variableMapSize: true, useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

export function encodeBody(body: object): Uint8Array {
  return encoder.encode(body);
}

function normalise(v: unknown, depth: number): CborValue {
  if (depth > 8) throw new ProtocolError('cbor', 'CBOR body nested too deeply');
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      // 64-bit integers arrive as bigint; any width is accepted as long as it fits a JS number exactly.
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ProtocolError('field', `integer ${v} is out of range`);
      }
      return Number(v);
    case 'object':
      if (v === null) return null;
      if (Array.isArray(v)) return v.map((x) => normalise(x, depth + 1));
      if (v instanceof Map) {
        const m: CborMap = new Map();
        for (const [k, x] of v as Map<unknown, unknown>) {
          if (typeof k !== 'string') throw new ProtocolError('cbor', 'CBOR map keys must be text');
          m.set(k, normalise(x, depth + 1));
        }
        return m;
      }
      throw new ProtocolError('cbor', 'unsupported CBOR item (tag or byte string) in body');
    default:
      throw new ProtocolError('cbor', `unsupported CBOR item (${typeof v})`);
  }
}

/** Decodes a frame body: exactly one CBOR map with text keys, nothing after it. */
export function decodeBody(bytes: Uint8Array): CborMap {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError('cbor', `invalid CBOR body: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(raw instanceof Map)) throw new ProtocolError('cbor', 'body is not a CBOR map');
  return normalise(raw, 0) as CborMap;
}
