import {
  decodeDeviceDatagram,
  deviceStreamDecoder,
  type DecodeResult,
  type DeviceFrame,
  type FrameDecoder,
} from '../firmware-bridge/protocol';
import type { FrameSink } from './types';

/**
 * The one decode path from a device's bytes to the agent, for every transport: a serial line's COBS stream
 * (serial link, simulator) or one frame per BLE notification. Whatever does not decode — bad CRC, CBOR or COBS,
 * an oversize run, a gateway-only frame type — is a bad frame for the sink (counted as framesBad, never fatal);
 * each good frame goes to `deliver`.
 */
export class DeviceInput {
  private decoder: FrameDecoder<DeviceFrame> = deviceStreamDecoder();

  constructor(
    private readonly deviceId: string,
    private readonly sink: FrameSink,
    private readonly deliver: (frame: DeviceFrame, raw: Uint8Array) => void,
  ) {}

  /** bytes from a serial line, in whatever chunks they arrive */
  stream(chunk: Uint8Array): void {
    for (const r of this.decoder.push(chunk)) this.take(r);
  }

  /** one whole frame (a BLE notification) */
  datagram(bytes: Uint8Array): void {
    this.take(decodeDeviceDatagram(bytes));
  }

  /** a fresh line (after an unplug): never glue bytes from before it to new ones */
  restart(): void {
    this.decoder = deviceStreamDecoder();
  }

  private take(r: DecodeResult<DeviceFrame>): void {
    if (r.ok) this.deliver(r.frame, r.raw);
    else this.sink.onBadFrame(this.deviceId, r.error);
  }
}
