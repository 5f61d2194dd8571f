/** One progress sample of a whole flash run (all parts), in image bytes (before compression). */
export interface FlashProgress {
  part: number;
  parts: number;
  /** image bytes of all parts already on the device */
  bytes: number;
  total: number;
  percent: number;
  bytesPerSecond: number | null;
  etaS: number | null;
}

/**
 * Turns esptool-js's per-part compressed-byte callbacks into whole-run progress with rate and ETA.
 * esptool-js reports compressed bytes sent; they are scaled to image bytes so the rate means the same thing
 * whether an image compresses well or not. The clock is injected so the arithmetic is testable without timers.
 */
export class FlashProgressMeter {
  private readonly offsets: number[];
  private startedAt: number | null = null;
  readonly total: number;

  constructor(
    private readonly partSizes: readonly number[],
    private readonly now: () => number = Date.now,
  ) {
    this.offsets = partSizes.map((_, i) => partSizes.slice(0, i).reduce((a, b) => a + b, 0));
    this.total = partSizes.reduce((a, b) => a + b, 0);
  }

  /** `sent` of `sentTotal` compressed bytes of part `index` are written. */
  update(index: number, sent: number, sentTotal: number): FlashProgress {
    const t = this.now();
    this.startedAt ??= t;
    const fraction = sentTotal > 0 ? Math.min(1, sent / sentTotal) : 1;
    const bytes = Math.round(this.offsets[index] + fraction * this.partSizes[index]);
    const elapsedS = (t - this.startedAt) / 1000;
    const bytesPerSecond = elapsedS > 0 && bytes > 0 ? bytes / elapsedS : null;
    return {
      part: index + 1,
      parts: this.partSizes.length,
      bytes,
      total: this.total,
      percent: this.total > 0 ? Math.floor((100 * bytes) / this.total) : 100,
      bytesPerSecond: bytesPerSecond === null ? null : Math.round(bytesPerSecond),
      etaS: bytesPerSecond === null ? null : Math.round(((this.total - bytes) / bytesPerSecond) * 10) / 10,
    };
  }
}

const units = ['B', 'KiB', 'MiB'];
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** `[#######.....]  45%  57.6 KiB / 128.0 KiB  31.2 KiB/s  ETA 2.3 s` */
export function formatProgressLine(p: FlashProgress, width = 24): string {
  const filled = Math.round((p.percent / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const rate = p.bytesPerSecond === null ? '' : `  ${formatBytes(p.bytesPerSecond)}/s`;
  const eta = p.etaS === null ? '' : `  ETA ${p.etaS.toFixed(1)} s`;
  const part = p.parts > 1 ? `part ${p.part}/${p.parts}  ` : '';
  return `${part}${bar} ${String(p.percent).padStart(3)}%  ${formatBytes(p.bytes)} / ${formatBytes(p.total)}${rate}${eta}`;
}
