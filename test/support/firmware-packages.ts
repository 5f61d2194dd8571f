import { createHash } from 'node:crypto';
import type { FirmwarePackage } from '../../agent/firmware-update/firmware-package';
import { buildEspImage } from './esp-rom-sim';

/** Where the ESP-IDF app lives in flash (what the rollout writes and reads back). */
export const APP_ADDRESS = 0x10000;

/**
 * A kitchen-scale app image of `version` as ESP-IDF builds it (magic, segments, app descriptor, appended SHA-256);
 * `seed` varies the bytes so two images of one size differ.
 */
export function kitchenScaleImage(version: string, size: number, seed?: number): Buffer {
  return buildEspImage({
    size,
    ...(seed === undefined ? {} : { seed }),
    appDescriptor: { projectName: 'kitchen-scale', version, idfVersion: 'v5.3.1' },
  });
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The announcement of `bytes` as kitchen-scale 2.5.0 (SHA256), as upstream would send it. */
export const packageOf = (bytes: Buffer, over: Partial<FirmwarePackage> = {}): FirmwarePackage => ({
  title: 'kitchen-scale',
  version: '2.5.0',
  size: bytes.length,
  checksum: sha256(bytes),
  checksumAlgorithm: 'SHA256',
  tag: null,
  devices: null,
  ...over,
});
