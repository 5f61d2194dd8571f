import {
  inspectEspImage,
  type EspImageInspection,
  type KnownSha256,
} from '../../firmware-bridge/flasher/esp-image-inspector';
import { DownloadFailure } from './download-failure';
import type { DownloadDigestResult } from './download-digests';
import { PackageChecksum, type FirmwarePackage } from './firmware-package';

/** A package whose checksum and image checks passed: the only kind the rollout flashes. */
export interface VerifiedPackage {
  pkg: FirmwarePackage;
  file: string;
  image: Buffer;
  inspection: EspImageInspection;
}

/**
 * Checks a downloaded package as the flasher checks an image before touching a device (magic, segments, checksum
 * byte, appended SHA-256), and that its app descriptor names the package's title and version: the version is what
 * the device must report in its hello after the flash.
 */
export function packageImageProblems(
  pkg: FirmwarePackage,
  image: Uint8Array,
  inspection: EspImageInspection = inspectEspImage(image),
): string[] {
  const problems = inspection.problems.map((p) => p.message);
  if (problems.length > 0) return problems;
  const desc = inspection.appDescriptor;
  if (!desc) return ['the package is an ESP image without an app descriptor (not an application)'];
  if (desc.projectName !== pkg.title)
    problems.push(`the image is the app "${desc.projectName}", the package says "${pkg.title}"`);
  if (desc.version !== pkg.version)
    problems.push(`the image is version ${desc.version}, the package says ${pkg.version}`);
  return problems;
}

/**
 * Checksum, then the image checks, of a package's bytes; the failure is returned, not thrown (the caller discards).
 * `digests`: computed over the same bytes as they arrived (DownloadDigests), so neither hash runs again here.
 */
export function checkPackageBytes(
  pkg: FirmwarePackage,
  image: Buffer,
  digests?: DownloadDigestResult,
): { image: Buffer; inspection: EspImageInspection } | DownloadFailure {
  const digest = digests?.checksum ?? new PackageChecksum(pkg.checksumAlgorithm).update(image).digest();
  if (digest !== pkg.checksum)
    return new DownloadFailure(
      'checksum',
      `checksum mismatch: ${pkg.checksumAlgorithm} of the download is ${digest}, the package says ${pkg.checksum}`,
    );
  const known: KnownSha256 | undefined = digests?.imageSha256 ?? undefined;
  const inspection = inspectEspImage(image, undefined, known);
  const problems = packageImageProblems(pkg, image, inspection);
  if (problems.length > 0)
    return new DownloadFailure('image', `the package is not a flashable image: ${problems.join('; ')}`);
  return { image, inspection };
}
