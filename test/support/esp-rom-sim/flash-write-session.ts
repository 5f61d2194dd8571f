import * as zlib from 'node:zlib';
import { eraseSectors, programNor } from './esp-flash-memory';
import { ERR_BAD_CHECKSUM, ERR_BAD_SEQUENCE, ERR_DEFLATE, romChecksum } from './esp-rom-protocol';

/**
 * One FLASH_BEGIN … FLASH_END session of esptool's stub (plain or deflated): the region is erased at the begin,
 * then numbered blocks arrive in sequence, are checksummed, inflated when compressed (one deflate stream spans the
 * blocks) and programmed into the NOR flash.
 */
export class FlashWriteSession {
  private nextSeq = 0;
  /** compressed: every block so far (the stream is inflated from its start each time) */
  private readonly chunks: Buffer[] = [];
  /** compressed: inflated bytes already programmed */
  private written = 0;

  /** The begin command: erases every sector `size` bytes from `offset` touch. */
  constructor(
    private readonly flash: Uint8Array,
    private readonly offset: number,
    size: number,
    private readonly blockSize: number,
    private readonly compressed: boolean,
    /** a flash address whose byte is stored flipped (Esp32RomSimOptions.corruptByteAt) */
    private readonly corruptByteAt?: number,
  ) {
    eraseSectors(flash, offset, size);
  }

  /** Block `seq`, `chk` the packet's checksum: 0 when programmed, else the stub's error code. */
  write(seq: number, block: Buffer, chk: number): number {
    if (seq !== this.nextSeq) return ERR_BAD_SEQUENCE;
    if (romChecksum(block) !== chk) return ERR_BAD_CHECKSUM;
    this.nextSeq++;
    if (!this.compressed) {
      programNor(this.flash, this.offset + seq * this.blockSize, block, this.corruptByteAt);
      return 0;
    }
    this.chunks.push(Buffer.from(block));
    let out: Buffer;
    try {
      out = zlib.inflateSync(Buffer.concat(this.chunks), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return ERR_DEFLATE;
    }
    programNor(this.flash, this.offset + this.written, out.subarray(this.written), this.corruptByteAt);
    this.written = out.length;
    return 0;
  }
}
