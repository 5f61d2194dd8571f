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

/** Deepest nesting a body may have (hello's `ch` list of maps is depth 2; the rest is headroom). */
const MAX_BODY_DEPTH = 8;

/**
 * Walks the raw CBOR item by item before cbor-x sees it, and rejects what PROTOCOL.md §4 excludes from bodies:
 * tags (cbor-x would turn `c2 01` into the integer 0), byte strings, indefinite lengths, simple values other
 * than false/true/null, reserved encodings, lengths that run past the end, nesting deeper than
 * MAX_BODY_DEPTH and bytes after the item. Declared lengths are checked against the bytes present, so a
 * hostile `bb ff…` never makes anything allocate. Returns nothing: a valid body just passes.
 */
export function checkBodyForm(bytes: Uint8Array): void {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new ProtocolError('cbor', `${msg} at byte ${pos}`);
  };
  const argument = (ai: number): number => {
    if (ai < 24) return ai;
    const width = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
    if (width === 0) return fail(ai === 31 ? 'indefinite-length item not allowed in a body' : `reserved CBOR additional info ${ai}`);
    if (pos + width > bytes.length) return fail('truncated CBOR item');
    let n = 0;
    for (let i = 0; i < width; i++) n = n * 256 + bytes[pos + i];
    pos += width;
    return n; // 8-byte values above 2^53 lose precision here; they are only compared with the bytes left
  };
  const item = (depth: number): void => {
    if (depth > MAX_BODY_DEPTH) fail('CBOR body nested too deeply');
    if (pos >= bytes.length) fail('truncated CBOR item');
    const initial = bytes[pos++];
    const major = initial >> 5;
    const ai = initial & 0x1f;
    switch (major) {
      case 0:
      case 1:
        argument(ai);
        return;
      case 2:
        fail('byte string not allowed in a body');
        return;
      case 3: {
        const len = argument(ai);
        if (len > bytes.length - pos) fail('text string runs past the end of the body');
        pos += len;
        return;
      }
      case 4: {
        const n = argument(ai);
        if (n > bytes.length - pos) fail('array longer than the body'); // every element takes at least one byte
        for (let i = 0; i < n; i++) item(depth + 1);
        return;
      }
      case 5: {
        const n = argument(ai);
        if (n * 2 > bytes.length - pos) fail('map longer than the body');
        for (let i = 0; i < n; i++) {
          if (pos < bytes.length && bytes[pos] >> 5 !== 3) fail('CBOR map keys must be text');
          item(depth + 1);
          item(depth + 1);
        }
        return;
      }
      case 6:
        fail(`CBOR tag not allowed in a body`);
        return;
      default:
        // major 7: false, true, null and the three float widths only
        if (ai === 20 || ai === 21 || ai === 22) return;
        if (ai === 25 || ai === 26 || ai === 27) {
          argument(ai);
          return;
        }
        fail(ai === 31 ? 'unexpected CBOR break' : `CBOR simple value ${ai} not allowed in a body`);
    }
  };
  item(0);
  if (pos !== bytes.length) fail('bytes after the body map');
}

/** Decodes a frame body: exactly one CBOR map with text keys, nothing after it. */
export function decodeBody(bytes: Uint8Array): CborMap {
  if (bytes.length === 0 || bytes[0] >> 5 !== 5) throw new ProtocolError('cbor', 'body is not a CBOR map');
  checkBodyForm(bytes);
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError('cbor', `invalid CBOR body: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(raw instanceof Map)) throw new ProtocolError('cbor', 'body is not a CBOR map');
  return normalise(raw, 0) as CborMap;
}
