import * as fs from 'node:fs';
import * as path from 'node:path';
import { appPlacementProblems, inspectPartitionTable } from './partition-table-inspector';
import {
  ESP_IMAGE_MAGIC,
  describeProblems,
  inspectEspImage,
  type EspImageInspection,
  type ImageProblem,
} from './esp-image-inspector';

/** ESP-IDF's default offset of the factory app partition: where a lone `--image app.bin` goes. */
export const DEFAULT_APP_ADDRESS = 0x10000;
/** Writes start on a flash sector: the stub erases whole 4 KiB sectors from the start address. */
const SECTOR = 0x1000;

export type PartRole = 'bootloader' | 'partition-table' | 'app' | 'other';

export interface FlashPart {
  role: PartRole;
  file: string;
  address: number;
  data: Uint8Array;
  /** null for parts that are not ESP images (partition table, data partitions) */
  inspection: EspImageInspection | null;
}

export interface FlashPlan {
  parts: FlashPart[];
  /** from flasher_args.json `extra_esptool_args.chip`, e.g. "esp32"; null when not stated */
  chip: string | null;
  /** the part whose app descriptor names the firmware version the device will report */
  app: FlashPart | null;
}

/** A plan that cannot be made (missing file, bad JSON, overlap): a usage problem, not a device problem. */
export class FlashPlanError extends Error {}

export function parseAddress(text: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new FlashPlanError(`address "${text}" is not a number (use hex like 0x10000)`);
  return n;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function readPart(file: string, address: number, role: PartRole, asImage: boolean): FlashPart {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FlashPlanError(
      code === 'ENOENT'
        ? `image ${file} does not exist`
        : `cannot read image ${file}: ${(err as Error).message}`,
    );
  }
  if (data.length === 0) throw new FlashPlanError(`image ${file} is empty`);
  if (address % SECTOR !== 0)
    throw new FlashPlanError(`address ${hex(address)} for ${file} is not on a 4 KiB flash sector boundary`);
  return {
    role,
    file,
    address,
    data: new Uint8Array(data),
    inspection: asImage ? inspectEspImage(data) : null,
  };
}

function firstByte(file: string): number | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(1);
      return fs.readSync(fd, b, 0, 1, 0) === 1 ? b[0] : null;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null; // readPart reports the missing file
  }
}

interface FlasherArgsJson {
  flash_files?: Record<string, string>;
  bootloader?: { offset?: string; file?: string };
  app?: { offset?: string; file?: string };
  'partition-table'?: { offset?: string; file?: string };
  extra_esptool_args?: { chip?: string };
}

/** Builds the plan from ESP-IDF's build/flasher_args.json: every file of `flash_files` at its offset. */
export function planFromFlasherArgs(jsonFile: string): FlashPlan {
  let doc: FlasherArgsJson;
  try {
    doc = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as FlasherArgsJson;
  } catch (err) {
    throw new FlashPlanError(`cannot read ${jsonFile} as flasher_args.json: ${(err as Error).message}`);
  }
  if (!doc.flash_files || typeof doc.flash_files !== 'object' || Object.keys(doc.flash_files).length === 0) {
    throw new FlashPlanError(`${jsonFile} has no "flash_files" (is it ESP-IDF's build/flasher_args.json?)`);
  }
  const dir = path.dirname(jsonFile);
  const roleOf = (file: string): PartRole => {
    for (const role of ['bootloader', 'app', 'partition-table'] as const)
      if (doc[role]?.file === file) return role;
    return 'other';
  };
  const parts = Object.entries(doc.flash_files)
    .map(([offset, file]) => {
      const role = roleOf(file);
      // Bootloader and app must be ESP images; other files (partition table, data partitions) are checked only
      // if they look like one.
      const data0 =
        role === 'other' || role === 'partition-table' ? firstByte(path.resolve(dir, file)) : ESP_IMAGE_MAGIC;
      return readPart(path.resolve(dir, file), parseAddress(offset), role, data0 === ESP_IMAGE_MAGIC);
    })
    .sort((a, b) => a.address - b.address);
  for (let i = 1; i < parts.length; i++) {
    const prev = parts[i - 1];
    if (prev.address + prev.data.length > parts[i].address) {
      throw new FlashPlanError(
        `${path.basename(prev.file)} (${hex(prev.address)}, ${prev.data.length} bytes) overlaps ${path.basename(parts[i].file)} at ${hex(parts[i].address)}`,
      );
    }
  }
  return {
    parts,
    chip: doc.extra_esptool_args?.chip ?? null,
    app: parts.find((p) => p.role === 'app') ?? null,
  };
}

/** `--image F [--address A]`: a flasher_args.json, or one binary (an app at 0x10000 unless told otherwise). */
export function buildFlashPlan(image: string, address: string | undefined): FlashPlan {
  if (path.basename(image).endsWith('.json')) {
    if (address !== undefined)
      throw new FlashPlanError('--address does not apply to flasher_args.json: its offsets are used');
    return planFromFlasherArgs(image);
  }
  const at = address === undefined ? DEFAULT_APP_ADDRESS : parseAddress(address);
  // A lone image is flashed as firmware, so it must be an ESP image; raw data blobs need --force.
  const part = readPart(path.resolve(image), at, at === 0x1000 ? 'bootloader' : 'other', true);
  if (part.inspection?.appDescriptor) part.role = 'app';
  return { parts: [part], chip: null, app: part.role === 'app' ? part : null };
}

/**
 * Problems of every part, re-checked against the chip that was detected; a partition table is checked on its own
 * and against where the app goes.
 */
export function planProblems(
  plan: FlashPlan,
  chipId: number | undefined,
): Array<{ part: FlashPart; problems: ImageProblem[] }> {
  const out: Array<{ part: FlashPart; problems: ImageProblem[] }> = [];
  for (const part of plan.parts) {
    let problems: ImageProblem[] = [];
    if (part.inspection) problems = inspectEspImage(part.data, chipId).problems;
    else if (part.role === 'partition-table') {
      const table = inspectPartitionTable(part.data);
      problems = table.problems;
      if (problems.length === 0 && plan.app)
        problems = appPlacementProblems(table.partitions, plan.app.address, plan.app.data.length);
    }
    if (problems.length > 0) out.push({ part, problems });
  }
  return out;
}

/** The refusal line: the first broken part, what is wrong, and the way to flash anyway. */
export function refusalMessage(found: ReturnType<typeof planProblems>): string {
  const { part, problems } = found[0];
  const more = found.length > 1 ? ` (and ${found.length - 1} more part${found.length > 2 ? 's' : ''})` : '';
  return `refusing to flash ${describeProblems(`${path.basename(part.file)} at ${hex(part.address)}`, problems)}${more} — rebuild or re-download the image, or pass --force to flash it anyway`;
}
