/** SLIP (RFC 1055) as the ESP serial bootloader uses it: every packet between two 0xC0. */
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

export function slipEncode(packet: Uint8Array): Buffer {
  const out: number[] = [END];
  for (const b of packet) {
    if (b === END) out.push(ESC, ESC_END);
    else if (b === ESC) out.push(ESC, ESC_ESC);
    else out.push(b);
  }
  out.push(END);
  return Buffer.from(out);
}

/** Streaming decoder: bytes in, whole packets out; bytes outside a packet (line noise) are dropped. */
export class SlipDecoder {
  private packet: number[] | null = null;
  private escaping = false;

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const b of chunk) {
      if (b === END) {
        if (this.packet && this.packet.length > 0) out.push(Uint8Array.from(this.packet));
        this.packet = [];
        this.escaping = false;
      } else if (this.packet === null) {
        continue;
      } else if (this.escaping) {
        this.escaping = false;
        this.packet.push(b === ESC_END ? END : b === ESC_ESC ? ESC : b);
      } else if (b === ESC) {
        this.escaping = true;
      } else {
        this.packet.push(b);
      }
    }
    return out;
  }
}
