import { STANDARD_CHARACTERISTICS, normaliseUuid } from './gatt-uuids';

/** Numeric layouts of third-party characteristic values (little-endian, as GATT is). */
export const NUMERIC_FORMATS = ['int8', 'uint8', 'int16le', 'uint16le', 'int32le', 'uint32le', 'float32le'] as const;
export type NumericFormat = (typeof NUMERIC_FORMATS)[number];

const SIZE: Record<NumericFormat, number> = { int8: 1, uint8: 1, int16le: 2, uint16le: 2, int32le: 4, uint32le: 4, float32le: 4 };

/** What a decoder made of one value: named numbers, and named events (a button press, a door opening). */
export interface DecodedValue {
  values: Record<string, number>;
  events: string[];
}

export type DecodeOutcome = { ok: true; value: DecodedValue } | { ok: false; error: string };

/**
 * A sandboxed decoder script as the driver sees it: the agent runs it in its ScriptHost and hands back plain
 * numbers (drivers never import the agent, DESIGN §2).
 */
export type ScriptedDecode = (scriptId: string, payload: Uint8Array, metadata: Record<string, string>) => DecodeOutcome;

export type DecoderSpec =
  | { kind: 'numeric'; format: NumericFormat; scale: number; offset: number; key: string }
  | { kind: 'standard'; uuid: string; key: string }
  | { kind: 'script'; scriptId: string };

/** The standard characteristics: layout, resolution and the special "value not known" each defines. */
const STANDARD: Record<string, { format: NumericFormat; scale: number; unknown?: number; min?: number; max?: number }> = {
  [STANDARD_CHARACTERISTICS.temperature]: { format: 'int16le', scale: 0.01, unknown: -32768 },
  [STANDARD_CHARACTERISTICS.humidity]: { format: 'uint16le', scale: 0.01, unknown: 0xffff, max: 100 },
  [STANDARD_CHARACTERISTICS.pressure]: { format: 'uint32le', scale: 0.1 },
  [STANDARD_CHARACTERISTICS.battery]: { format: 'uint8', scale: 1, max: 100 },
};

function readNumber(bytes: Uint8Array, format: NumericFormat): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (format) {
    case 'int8':
      return view.getInt8(0);
    case 'uint8':
      return view.getUint8(0);
    case 'int16le':
      return view.getInt16(0, true);
    case 'uint16le':
      return view.getUint16(0, true);
    case 'int32le':
      return view.getInt32(0, true);
    case 'uint32le':
      return view.getUint32(0, true);
    case 'float32le':
      return view.getFloat32(0, true);
  }
}

/** Rounds away binary noise of the scale (0.01 × 2150 = 21.500000000000004) without losing real digits. */
const tidy = (v: number): number => Number(v.toPrecision(12));

/**
 * Turns one characteristic value into named numbers. Built-in formats and the standard characteristics are
 * decoded here; scripts are run by the agent through `scripted`. Wrong lengths, "unknown" markers, non-finite
 * or out-of-range values are errors (counted by the caller), never a reading.
 */
export class CharacteristicDecoder {
  constructor(
    private readonly spec: DecoderSpec,
    private readonly scripted: ScriptedDecode | null,
  ) {}

  decode(bytes: Uint8Array, metadata: Record<string, string>): DecodeOutcome {
    const spec = this.spec;
    if (spec.kind === 'script') {
      if (!this.scripted) return { ok: false, error: 'no script host to run the decoder' };
      return this.scripted(spec.scriptId, bytes, metadata);
    }
    if (spec.kind === 'numeric') {
      const need = SIZE[spec.format];
      if (bytes.length !== need) return { ok: false, error: `${spec.format} needs ${need} byte${need > 1 ? 's' : ''}, got ${bytes.length}` };
      const v = readNumber(bytes, spec.format) * spec.scale + spec.offset;
      if (!Number.isFinite(v)) return { ok: false, error: `${spec.format} value is not a finite number` };
      return { ok: true, value: { values: { [spec.key]: tidy(v) }, events: [] } };
    }
    const std = STANDARD[spec.uuid];
    if (!std) return { ok: false, error: `no built-in decoding for ${spec.uuid}` };
    const need = SIZE[std.format];
    if (bytes.length !== need) return { ok: false, error: `characteristic ${spec.uuid.slice(4, 8)} carries ${need} byte${need > 1 ? 's' : ''}, got ${bytes.length}` };
    const raw = readNumber(bytes, std.format);
    if (std.unknown !== undefined && raw === std.unknown) return { ok: false, error: 'sensor reports "value not known"' };
    const v = tidy(raw * std.scale);
    if ((std.max !== undefined && v > std.max) || (std.min !== undefined && v < std.min)) return { ok: false, error: `value ${v} out of range` };
    return { ok: true, value: { values: { [spec.key]: v }, events: [] } };
  }
}

/** The channel kind a standard characteristic reports, used when the config names none. */
export function standardKind(uuid: string): string | null {
  const n = normaliseUuid(uuid);
  for (const [k, u] of Object.entries(STANDARD_CHARACTERISTICS)) if (u === n) return k;
  return null;
}
