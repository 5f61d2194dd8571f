import { createHash, type Hash } from 'node:crypto';
import type * as Zlib from 'node:zlib';

/** Checksum algorithms ThingsBoard offers (ChecksumAlgorithm) that the agent can verify. */
export const CHECKSUM_ALGORITHMS = ['SHA256', 'SHA384', 'SHA512', 'MD5', 'CRC32'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** A firmware package as announced upstream (docs/firmware-updates.md §1): which model, which version, which bytes. */
export interface FirmwarePackage {
  /** the device model it is for (= the firmware's ESP-IDF project name) */
  title: string;
  version: string;
  size: number;
  checksum: string;
  checksumAlgorithm: ChecksumAlgorithm;
  tag: string | null;
  /** narrows the package to these paired devices; null: every device of the model */
  devices: string[] | null;
}

/** An announcement that cannot be used; the message is the one line reported as `fw_error`. */
export class PackageAnnouncementError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_PACKAGE_BYTES = 64 * 1024 * 1024;

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '')
    throw new PackageAnnouncementError(`${field} must be a non-empty string`);
  return v.trim();
}

/** The same package twice (a re-announcement) is not a new campaign. */
export function samePackage(a: FirmwarePackage, b: FirmwarePackage): boolean {
  return a.title === b.title && a.version === b.version && a.checksum === b.checksum && a.size === b.size;
}

/** Validates the fields common to both profiles; `names` maps our field names to the upstream's for messages. */
function parseFields(
  f: {
    title: unknown;
    version: unknown;
    size: unknown;
    checksum: unknown;
    algorithm: unknown;
    tag: unknown;
    devices: unknown;
    url: unknown;
  },
  names: Record<'title' | 'version' | 'size' | 'checksum' | 'algorithm' | 'devices', string>,
): FirmwarePackage {
  if (f.url !== undefined && f.size === undefined)
    throw new PackageAnnouncementError(
      'URL packages are not supported: the gateway downloads only over its MQTT connection',
    );
  const title = text(f.title, names.title);
  const version = text(f.version, names.version);
  const size = typeof f.size === 'string' && /^\d+$/.test(f.size) ? Number(f.size) : f.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size > MAX_PACKAGE_BYTES)
    throw new PackageAnnouncementError(`${names.size} must be a byte count from 1 to ${MAX_PACKAGE_BYTES}`);
  const algorithm = text(f.algorithm, names.algorithm).toUpperCase();
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm))
    throw new PackageAnnouncementError(
      `${names.algorithm} ${algorithm} is not supported (use ${CHECKSUM_ALGORITHMS.join(', ')})`,
    );
  const checksum = text(f.checksum, names.checksum).toLowerCase();
  const hexLen: Record<ChecksumAlgorithm, number> = {
    SHA256: 64,
    SHA384: 96,
    SHA512: 128,
    MD5: 32,
    CRC32: 8,
  };
  const want = hexLen[algorithm as ChecksumAlgorithm];
  // ThingsBoard prints CRC32 without leading zeros (Long.toHexString): pad it.
  const normalized = algorithm === 'CRC32' ? checksum.padStart(8, '0') : checksum;
  if (!new RegExp(`^[0-9a-f]{${want}}$`).test(normalized))
    throw new PackageAnnouncementError(`${names.checksum} must be ${want} hex digits for ${algorithm}`);
  let devices: string[] | null = null;
  if (f.devices !== undefined && f.devices !== null) {
    const list =
      typeof f.devices === 'string'
        ? f.devices
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : f.devices;
    if (!Array.isArray(list) || list.length === 0 || !list.every((d) => typeof d === 'string' && d !== ''))
      throw new PackageAnnouncementError(`${names.devices} must be a non-empty list of device ids`);
    devices = list as string[];
  }
  const tag = typeof f.tag === 'string' && f.tag !== '' ? f.tag : null;
  return {
    title,
    version,
    size,
    checksum: normalized,
    checksumAlgorithm: algorithm as ChecksumAlgorithm,
    tag,
    devices,
  };
}

/** The ThingsBoard shared attributes of the gateway device, as DefaultOtaPackageStateService writes them. */
export const TB_FW_ATTRIBUTES = [
  'fw_title',
  'fw_version',
  'fw_size',
  'fw_checksum',
  'fw_checksum_algorithm',
  'fw_tag',
  'fw_url',
  'fw_devices',
] as const;

/**
 * ThingsBoard attributes → package. Returns null when the attributes carry no firmware key at all (another
 * attribute changed); `{cancel: true}` when they say the package was unassigned (fw_title deleted).
 */
export function packageFromThingsboardAttributes(
  attrs: Record<string, unknown>,
  deleted: readonly string[] = [],
): FirmwarePackage | { cancel: true } | null {
  if (deleted.includes('fw_title') || deleted.includes('fw_version')) return { cancel: true };
  if (!TB_FW_ATTRIBUTES.some((k) => k in attrs)) return null;
  return parseFields(
    {
      title: attrs.fw_title,
      version: attrs.fw_version,
      size: attrs.fw_size,
      checksum: attrs.fw_checksum,
      algorithm: attrs.fw_checksum_algorithm,
      tag: attrs.fw_tag,
      devices: attrs.fw_devices,
      url: attrs.fw_url,
    },
    {
      title: 'fw_title',
      version: 'fw_version',
      size: 'fw_size',
      checksum: 'fw_checksum',
      algorithm: 'fw_checksum_algorithm',
      devices: 'fw_devices',
    },
  );
}

/** Generic profile `set/firmware` body → package, or `{cancel: true}`. */
export function packageFromGenericRequest(body: unknown): FirmwarePackage | { cancel: true } {
  if (!isObject(body)) throw new PackageAnnouncementError('set/firmware needs a JSON object');
  if (body.cancel === true) return { cancel: true };
  return parseFields(
    {
      title: body.title,
      version: body.version,
      size: body.size,
      checksum: body.checksum,
      algorithm: body.checksumAlgorithm,
      tag: body.tag,
      devices: body.devices,
      url: body.url,
    },
    {
      title: 'title',
      version: 'version',
      size: 'size',
      checksum: 'checksum',
      algorithm: 'checksumAlgorithm',
      devices: 'devices',
    },
  );
}

/** An incremental checksum over the package bytes, in the form the platform announces (lower-case hex). */
export class PackageChecksum {
  private hash: Hash | null;
  private crc = 0;

  constructor(readonly algorithm: ChecksumAlgorithm) {
    this.hash =
      algorithm === 'CRC32'
        ? null
        : createHash(algorithm === 'MD5' ? 'md5' : algorithm.replace('SHA', 'sha'));
  }

  update(bytes: Uint8Array): this {
    if (this.hash) this.hash.update(bytes);
    // zlib loads with the first CRC32 package, not with every start (issue #24, cold start)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    else this.crc = (require('node:zlib') as typeof Zlib).crc32(bytes, this.crc);
    return this;
  }

  digest(): string {
    return this.hash ? this.hash.digest('hex') : (this.crc >>> 0).toString(16).padStart(8, '0');
  }
}
