export type DownloadFailureCode = 'budget' | 'checksum' | 'image' | 'chunk' | 'disk';

/** A download that cannot go on; `message` is the `fw_error` line. */
export class DownloadFailure extends Error {
  constructor(
    readonly code: DownloadFailureCode,
    message: string,
  ) {
    super(message);
  }
}
