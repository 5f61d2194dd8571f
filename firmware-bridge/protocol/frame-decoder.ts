import { cobsDecode } from './cobs';
import { ProtocolError } from './errors';
import { decodeFrame } from './frame-codec';
import type { Frame } from './frames';

/** An encoded run longer than this is discarded (DESIGN §3): bounds memory against a babbling line. */
export const MAX_ENCODED_RUN = 600;

export type DecodeResult =
  | { ok: true; frame: Frame; raw: Uint8Array }
  | { ok: false; error: ProtocolError; raw: Uint8Array };

/**
 * Streaming serial reader: splits the byte stream at 0x00, COBS-decodes and decodes each run. Pure (no streams),
 * so it is shared by the serial driver, the simulator and tests. After garbage it resynchronises at the next
 * 0x00; an over-long run is reported once as `oversize` and skipped without buffering it.
 */
export class FrameDecoder {
  private readonly max: number;
  private readonly buf: Uint8Array;
  private len = 0;
  private discarding = false;

  constructor(opts: { maxEncodedLength?: number } = {}) {
    this.max = opts.maxEncodedLength ?? MAX_ENCODED_RUN;
    this.buf = new Uint8Array(this.max);
  }

  push(chunk: Uint8Array): DecodeResult[] {
    const out: DecodeResult[] = [];
    let start = 0;
    while (start < chunk.length) {
      const zero = chunk.indexOf(0, start);
      const stop = zero === -1 ? chunk.length : zero;
      const n = stop - start;
      if (!this.discarding) {
        if (this.len + n > this.max) {
          out.push({
            ok: false,
            error: new ProtocolError('oversize', `encoded run longer than ${this.max} bytes discarded`),
            raw: this.buf.slice(0, Math.min(this.len, 32)),
          });
          this.discarding = true;
          this.len = 0;
        } else {
          this.buf.set(chunk.subarray(start, stop), this.len);
          this.len += n;
        }
      }
      if (zero === -1) break;
      // Delimiter: a complete run (or the end of a discarded one).
      if (this.discarding) {
        this.discarding = false;
      } else if (this.len > 0) {
        out.push(this.decodeRun());
      }
      this.len = 0;
      start = zero + 1;
    }
    return out;
  }

  private decodeRun(): DecodeResult {
    const raw = this.buf.slice(0, this.len);
    try {
      return { ok: true, frame: decodeFrame(cobsDecode(raw)), raw };
    } catch (err) {
      const error = err instanceof ProtocolError ? err : new ProtocolError('cbor', err instanceof Error ? err.message : String(err));
      return { ok: false, error, raw };
    }
  }

  reset(): void {
    this.len = 0;
    this.discarding = false;
  }
}
