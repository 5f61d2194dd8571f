import { ProtocolError } from './errors';

/**
 * Consistent Overhead Byte Stuffing: removes every 0x00 from a frame so 0x00 can delimit frames on a serial
 * line, at a cost of at most one byte per 254. The delimiter itself is not part of the encoding.
 */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 254) + 1);
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS run (without its 0x00 delimiter). Throws ProtocolError('cobs') on a malformed run. */
export function cobsDecode(data: Uint8Array, start = 0, end = data.length): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  let o = 0;
  let i = start;
  while (i < end) {
    const code = data[i];
    if (code === 0) throw new ProtocolError('cobs', 'COBS run contains a 0x00 byte');
    if (i + code > end) throw new ProtocolError('cobs', 'COBS code points past the end of the run');
    i++;
    for (let k = 1; k < code; k++) {
      const b = data[i++];
      if (b === 0) throw new ProtocolError('cobs', 'COBS run contains a 0x00 byte');
      out[o++] = b;
    }
    if (code !== 0xff && i < end) out[o++] = 0;
  }
  return out.subarray(0, o);
}
