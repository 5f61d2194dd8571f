import { computeIndex, DEFAULT_RECENCY_FLOOR_DAYS, EngagementError, PUBLISHED_SCALE } from '../../engagement';
import { CliError } from '../cli-error';
import { printJson, type CliOutput } from '../output';

export interface IndexOptions {
  recency: string;
  frequency: string;
  value: string;
  scale?: string;
  floor?: string;
  json?: boolean;
}

function num(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new CliError(`--${flag} must be a number, got "${raw}"`, 2);
  return n;
}

/** `edge-agent index`: the DESIGN §4 formula on given R, F, V — the same function the engine uses. */
export function indexCommand(opts: IndexOptions, io: CliOutput): number {
  const recencyDays = num('recency', opts.recency);
  const frequency = num('frequency', opts.frequency);
  const value = num('value', opts.value);
  const scale = opts.scale === undefined ? PUBLISHED_SCALE : num('scale', opts.scale);
  const recencyFloorDays = opts.floor === undefined ? DEFAULT_RECENCY_FLOOR_DAYS : num('floor', opts.floor);
  let index: number;
  try {
    index = computeIndex({ recencyDays, frequency, value, scale, recencyFloorDays });
  } catch (err) {
    if (err instanceof EngagementError) throw new CliError(err.message, 2);
    throw err;
  }
  const effectiveR = Math.max(recencyDays, recencyFloorDays);
  if (opts.json) {
    printJson(io, { index, r: recencyDays, rEffective: effectiveR, f: frequency, v: value, scale, recencyFloorDays });
  } else {
    const shown = Number(index.toPrecision(12));
    io.out(`index = (S / R) × F × (V / 100) = (${scale} / ${effectiveR}) × ${frequency} × (${value} / 100) = ${shown}`);
  }
  return 0;
}
