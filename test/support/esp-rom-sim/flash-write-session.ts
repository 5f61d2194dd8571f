import * as zlib from 'node:zlib';
import { eraseSectors, programNor } from './esp-flash-memory';
import { ERR_BAD_CHECKSUM, ERR_DEFLATE, romChecksum } from './esp-rom-protocol';

/**
 * One FLASH_BEGIN … FLASH_END session of esptool's stub (plain or deflated): the region is erased at the begin,
 * then blocks are checksummed, inflated when compressed (one deflate stream spans the blocks) and programmed into
 * the NOR flash one after the other. As the stub does (esptool's flasher_stub: a data block is acked on arrival,
 * its sequence number never looked at), a block that arrives twice is taken twice: it lands where the next block
 * belongs, or is inflated again and breaks the stream, and the MD5 check at the end tells.
 */
export class FlashWriteSession {
  private readonly seqs = new Set<number>();
  /** compressed: every block so far (the stream is inflated from its start each time) */
  private readonly chunks: Buffer[] = [];
  /** bytes programmed so far (compressed: inflated bytes) */
  private written = 0;
  /** compressed: the stream broke; every later block gets the same error, as the stub's sticky flash error */
  private failed = 0;

  /** The begin command: erases every sector `size` bytes from `offset` touch. */
  constructor(
    private readonly flash: Uint8Array,
    private readonly offset: number,
    size: number,
    private readonly compressed: boolean,
    /** a flash address whose byte is stored flipped (Esp32RomSimOptions.corruptByteAt) */
    private readonly corruptByteAt?: number,
  ) {
    eraseSectors(flash, offset, size);
  }

  /** Whether a block with this sequence number was taken already in this session. */
  taken(seq: number): boolean {
    return this.seqs.has(seq);
  }

  /** Block `seq`, `chk` the packet's checksum: 0 when programmed, else the stub's error code. */
  write(seq: number, block: Buffer, chk: number): number {
    if (this.failed) return this.failed;
    if (romChecksum(block) !== chk) return ERR_BAD_CHECKSUM;
    this.seqs.add(seq);
    if (!this.compressed) {
      programNor(this.flash, this.offset + this.written, block, this.corruptByteAt);
      this.written += block.length;
      return 0;
    }
    this.chunks.push(Buffer.from(block));
    let out: Buffer;
    try {
      out = zlib.inflateSync(Buffer.concat(this.chunks), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      this.failed = ERR_DEFLATE;
      return ERR_DEFLATE;
    }
    programNor(this.flash, this.offset + this.written, out.subarray(this.written), this.corruptByteAt);
    this.written = out.length;
    return 0;
  }
}
