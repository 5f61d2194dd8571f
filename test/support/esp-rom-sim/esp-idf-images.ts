import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Builds real-format ESP-IDF binaries in code (esp_image_format.h, esp_app_format.h, esp_partition.h). */

export interface TestImageSpec {
  /** esp_chip_id_t: 0 ESP32, 9 ESP32-S3 … */
  chipId?: number;
  /** total bytes of segment data, roughly (split over three segments) */
  size?: number;
  /** put an esp_app_desc_t at the start of the first segment (apps have one, bootloaders do not) */
  appDescriptor?: { projectName: string; version: string; idfVersion: string } | null;
  hashAppended?: boolean;
  seed?: number;
}

/** Deterministic bytes that compress about like firmware does (a small vocabulary of words, some runs). */
function firmwareLikeBytes(n: number, seed: number): Buffer {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const vocab = Array.from({ length: 64 }, () => next());
  const out = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4)
    out.writeUInt32LE(next() % 5 === 0 ? next() : vocab[next() % vocab.length], i);
  return out;
}

function cstr(text: string, len: number): Buffer {
  const b = Buffer.alloc(len);
  b.write(text, 0, len - 1, 'utf8');
  return b;
}

export function appDescriptorBytes(d: { projectName: string; version: string; idfVersion: string }): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt32LE(0xabcd5432, 0);
  cstr(d.version, 32).copy(b, 16);
  cstr(d.projectName, 32).copy(b, 48);
  cstr('08:00:00', 16).copy(b, 80);
  cstr('Dec  1 2026', 16).copy(b, 96);
  cstr(d.idfVersion, 32).copy(b, 112);
  return b;
}

export function buildEspImage(spec: TestImageSpec = {}): Buffer {
  const size = spec.size ?? 96 * 1024;
  const seed = spec.seed ?? 7;
  const desc =
    spec.appDescriptor === undefined
      ? { projectName: 'kitchen-scale', version: '2.4.0', idfVersion: 'v5.3.1' }
      : spec.appDescriptor;
  const first = Buffer.concat([
    desc ? appDescriptorBytes(desc) : Buffer.alloc(0),
    firmwareLikeBytes(Math.floor(size / 2), seed),
  ]);
  const segments: Array<[number, Buffer]> = [
    [0x3f400020, first],
    [0x3ffb0000, firmwareLikeBytes(Math.floor(size / 8) & ~3, seed + 1)],
    [0x40080000, firmwareLikeBytes(Math.floor((size * 3) / 8) & ~3, seed + 2)],
  ];
  const header = Buffer.alloc(24);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = 0x02; // DIO
  header[3] = 0x20; // 4 MB, 40 MHz
  header.writeUInt32LE(0x40080400, 4);
  header[8] = 0xee; // WP pin unused
  header.writeUInt16LE(spec.chipId ?? 0, 12);
  header.writeUInt16LE(399, 17); // max chip revision v3.99
  header[23] = spec.hashAppended === false ? 0 : 1;
  const parts: Buffer[] = [header];
  let checksum = 0xef;
  let length = 24;
  for (const [addr, data] of segments) {
    const sh = Buffer.alloc(8);
    sh.writeUInt32LE(addr, 0);
    sh.writeUInt32LE(data.length, 4);
    parts.push(sh, data);
    for (const b of data) checksum ^= b;
    length += 8 + data.length;
  }
  parts.push(Buffer.alloc(15 - (length % 16)), Buffer.from([checksum]));
  let image = Buffer.concat(parts);
  if (spec.hashAppended !== false)
    image = Buffer.concat([image, createHash('sha256').update(image).digest()]);
  return image;
}

/** A partition table as ESP-IDF's gen_esp32part.py writes it: 32-byte entries, an MD5 entry, 0xFF padding. */
export function buildPartitionTable(): Buffer {
  const entry = (type: number, subtype: number, offset: number, size: number, label: string): Buffer => {
    const e = Buffer.alloc(32);
    e[0] = 0xaa;
    e[1] = 0x50;
    e[2] = type;
    e[3] = subtype;
    e.writeUInt32LE(offset, 4);
    e.writeUInt32LE(size, 8);
    cstr(label, 16).copy(e, 12);
    return e;
  };
  const entries = Buffer.concat([
    entry(1, 0x02, 0x9000, 0x6000, 'nvs'),
    entry(1, 0x01, 0xf000, 0x1000, 'phy_init'),
    entry(0, 0x00, 0x10000, 0x100000, 'factory'),
  ]);
  const md5 = Buffer.concat([
    Buffer.from([0xeb, 0xeb]),
    Buffer.alloc(14, 0xff),
    createHash('md5').update(entries).digest(),
  ]);
  const table = Buffer.concat([entries, md5]);
  return Buffer.concat([table, Buffer.alloc(0xc00 - table.length, 0xff)]);
}

export interface IdfBuild {
  dir: string;
  flasherArgs: string;
  bootloader: Buffer;
  partitionTable: Buffer;
  app: Buffer;
}

/** Writes an ESP-IDF-like build directory: bootloader, partition table, app and flasher_args.json. */
export function writeIdfBuild(dir: string, opts: { app?: Buffer; chip?: string } = {}): IdfBuild {
  fs.mkdirSync(path.join(dir, 'bootloader'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'partition_table'), { recursive: true });
  const bootloader = buildEspImage({ size: 20 * 1024, appDescriptor: null, hashAppended: false, seed: 3 });
  const partitionTable = buildPartitionTable();
  const app = opts.app ?? buildEspImage();
  fs.writeFileSync(path.join(dir, 'bootloader', 'bootloader.bin'), bootloader);
  fs.writeFileSync(path.join(dir, 'partition_table', 'partition-table.bin'), partitionTable);
  fs.writeFileSync(path.join(dir, 'kitchen-scale.bin'), app);
  const flasherArgs = path.join(dir, 'flasher_args.json');
  fs.writeFileSync(
    flasherArgs,
    JSON.stringify(
      {
        write_flash_args: ['--flash_mode', 'dio', '--flash_size', '4MB', '--flash_freq', '40m'],
        flash_settings: { flash_mode: 'dio', flash_size: '4MB', flash_freq: '40m' },
        flash_files: {
          '0x1000': 'bootloader/bootloader.bin',
          '0x8000': 'partition_table/partition-table.bin',
          '0x10000': 'kitchen-scale.bin',
        },
        bootloader: { offset: '0x1000', file: 'bootloader/bootloader.bin', encrypted: 'false' },
        'partition-table': {
          offset: '0x8000',
          file: 'partition_table/partition-table.bin',
          encrypted: 'false',
        },
        app: { offset: '0x10000', file: 'kitchen-scale.bin', encrypted: 'false' },
        extra_esptool_args: {
          after: 'hard_reset',
          before: 'default_reset',
          stub: true,
          chip: opts.chip ?? 'esp32',
        },
      },
      null,
      4,
    ),
  );
  return { dir, flasherArgs, bootloader, partitionTable, app };
}
