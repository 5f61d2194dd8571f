import { createHash } from 'node:crypto';
import type { ImageProblem } from './esp-image-inspector';

/**
 * Reads an ESP-IDF partition table binary (esp_partition.h, gen_esp32part.py): 32-byte entries with magic
 * 0x50AA, optionally followed by an MD5 entry (magic 0xEBEB) over all entries before it, ended by 0xFF bytes.
 * Pure: bytes in, partitions and problems out.
 */

const ENTRY_LEN = 32;
const ENTRY_MAGIC = 0x50aa;
const MD5_MAGIC = 0xebeb;
const END_MAGIC = 0xffff;
/** gen_esp32part.py's maximum table size */
const MAX_TABLE_LEN = 0xc00;

export const PARTITION_TYPE_APP = 0x00;

export interface Partition {
  type: number;
  subtype: number;
  offset: number;
  size: number;
  label: string;
}

export interface PartitionTableInspection {
  partitions: Partition[];
  /** null when the table carries no MD5 entry (CONFIG_PARTITION_TABLE_MD5 off) */
  md5Ok: boolean | null;
  problems: ImageProblem[];
}

export function inspectPartitionTable(bytes: Uint8Array): PartitionTableInspection {
  const result: PartitionTableInspection = { partitions: [], md5Ok: null, problems: [] };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < ENTRY_LEN || buf.readUInt16LE(0) !== ENTRY_MAGIC) {
    result.problems.push({
      code: 'partition-table',
      message: 'not an ESP-IDF partition table (the first entry lacks the magic 0x50aa)',
    });
    return result;
  }
  for (let off = 0; off + ENTRY_LEN <= Math.min(buf.length, MAX_TABLE_LEN); off += ENTRY_LEN) {
    const magic = buf.readUInt16LE(off);
    if (magic === END_MAGIC) break;
    if (magic === MD5_MAGIC) {
      const digest = createHash('md5').update(buf.subarray(0, off)).digest();
      result.md5Ok = digest.equals(buf.subarray(off + 16, off + 32));
      if (!result.md5Ok)
        result.problems.push({
          code: 'partition-md5',
          message: 'partition table MD5 does not match its entries (corrupted table)',
        });
      break;
    }
    if (magic !== ENTRY_MAGIC) {
      result.problems.push({
        code: 'partition-table',
        message: `partition table entry ${off / ENTRY_LEN + 1} is corrupted (magic 0x${magic.toString(16)})`,
      });
      break;
    }
    const label = buf.subarray(off + 12, off + 28);
    const end = label.indexOf(0);
    result.partitions.push({
      type: buf[off + 2],
      subtype: buf[off + 3],
      offset: buf.readUInt32LE(off + 4),
      size: buf.readUInt32LE(off + 8),
      label: label.subarray(0, end < 0 ? label.length : end).toString('utf8'),
    });
  }
  return result;
}

/** An app must start exactly at an app partition and fit in it, or the bootloader never finds it. */
export function appPlacementProblems(
  partitions: readonly Partition[],
  appAddress: number,
  appLength: number,
): ImageProblem[] {
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const slot = partitions.find((p) => p.type === PARTITION_TYPE_APP && p.offset === appAddress);
  if (!slot) {
    const apps = partitions
      .filter((p) => p.type === PARTITION_TYPE_APP)
      .map((p) => `${p.label} at ${hex(p.offset)}`);
    return [
      {
        code: 'app-placement',
        message: `the app goes to ${hex(appAddress)}, but the partition table has no app partition there (${apps.join(', ') || 'no app partitions'})`,
      },
    ];
  }
  if (appLength > slot.size) {
    return [
      {
        code: 'app-placement',
        message: `the app (${appLength} bytes) is larger than its partition ${slot.label} (${slot.size} bytes)`,
      },
    ];
  }
  return [];
}
