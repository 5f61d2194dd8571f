import { cobsDecode } from './cobs';
import { ProtocolError } from './errors';
import { decodeDeviceFrame, decodeFrame, decodeGatewayFrame } from './frame-codec';
import type { DeviceFrame, Frame, GatewayFrame } from './frames';

/** An encoded run longer than this is discarded (DESIGN §3): bounds memory against a babbling line. */
export const MAX_ENCODED_RUN = 600;

export type DecodeResult<F extends Frame = Frame> =
  | { ok: true; frame: F; raw: Uint8Array }
  | { ok: false; error: ProtocolError; raw: Uint8Array };

const asProtocolError = (err: unknown): ProtocolError =>
  err instanceof ProtocolError ? err : new ProtocolError('cbor', err instanceof Error ? err.message : String(err));

/** One decode whose failure, of whatever kind, becomes a ProtocolError result: never a throw. */
function attempt<F extends Frame>(raw: Uint8Array, decode: () => F): DecodeResult<F> {
  try {
    return { ok: true, frame: decode(), raw };
  } catch (err) {
    return { ok: false, error: asProtocolError(err), raw };
  }
}

/**
 * One whole frame from a device, not COBS-framed (a BLE notification): the same decode as a serial line's, so a
 * frame is good or bad the same way on every transport.
 */
export function decodeDeviceDatagram(bytes: Uint8Array): DecodeResult<DeviceFrame> {
  return attempt(bytes, () => decodeDeviceFrame(bytes));
}

export interface FrameDecoderOptions<F extends Frame> {
  maxEncodedLength?: number;
  /** decodes one un-COBSed frame; throws ProtocolError (default: any frame type, either direction) */
  decode?: (bytes: Uint8Array) => F;
}

/**
 * Streaming serial reader: splits the byte stream at 0x00, COBS-decodes and decodes each run. Pure (no streams),
 * so it is shared by every serial transport, the simulator and tests. After garbage it resynchronises at the next
 * 0x00; an over-long run is reported once as `oversize` and skipped without buffering it. What the gateway reads
 * from a device comes from deviceStreamDecoder (a gateway-only type is a bad frame), what a simulated device
 * reads from gateways from gatewayStreamDecoder.
 */
export class FrameDecoder<F extends Frame = Frame> {
  private readonly max: number;
  private readonly buf: Uint8Array;
  private readonly decode: (bytes: Uint8Array) => F;
  private len = 0;
  private discarding = false;

  constructor(opts: FrameDecoderOptions<F> = {}) {
    this.max = opts.maxEncodedLength ?? MAX_ENCODED_RUN;
    this.buf = new Uint8Array(this.max);
    this.decode = opts.decode ?? (decodeFrame as (bytes: Uint8Array) => F);
  }

  push(chunk: Uint8Array): DecodeResult<F>[] {
    const out: DecodeResult<F>[] = [];
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
        const raw = this.buf.slice(0, this.len);
        out.push(attempt(raw, () => this.decode(cobsDecode(raw))));
      }
      this.len = 0;
      start = zero + 1;
    }
    return out;
  }

  reset(): void {
    this.len = 0;
    this.discarding = false;
  }
}

/** What the gateway reads from a device's serial line. */
export const deviceStreamDecoder = (opts: { maxEncodedLength?: number } = {}): FrameDecoder<DeviceFrame> =>
  new FrameDecoder({ ...opts, decode: decodeDeviceFrame });

/** What a (simulated) device reads from the gateway's serial line. */
export const gatewayStreamDecoder = (opts: { maxEncodedLength?: number } = {}): FrameDecoder<GatewayFrame> =>
  new FrameDecoder({ ...opts, decode: decodeGatewayFrame });
