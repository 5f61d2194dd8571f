import { createHash } from 'node:crypto';
import { slipEncode } from './slip';

/**
 * The stub's READ_FLASH: blocks as SLIP packets, at most `maxInFlight` unacknowledged, each acked by the host with
 * the byte count so far; then the MD5 of the whole read.
 */
export class FlashReadStream {
  private sent = 0;
  private acked = 0;
  private readonly end: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly flash: Uint8Array,
    private readonly read: { address: number; size: number; blockSize: number; maxInFlight: number },
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    this.end = read.address + read.size;
    this.maxInFlight = Math.max(1, read.maxInFlight);
  }

  /** Sends the blocks the window allows. */
  send(): void {
    const { address, blockSize } = this.read;
    const total = this.end - address;
    while (this.sent < total && this.sent - this.acked < this.maxInFlight * blockSize) {
      const n = Math.min(blockSize, total - this.sent);
      this.write(slipEncode(this.flash.subarray(address + this.sent, address + this.sent + n)));
      this.sent += n;
    }
  }

  /** The host acked `count` bytes: more blocks, or the MD5 once all are acked. True when the read is over. */
  ack(count: number): boolean {
    this.acked = count;
    if (this.acked >= this.end - this.read.address) {
      this.write(slipEncode(createHash('md5').update(this.flash.subarray(this.read.address, this.end)).digest()));
      return true;
    }
    this.send();
    return false;
  }
}
