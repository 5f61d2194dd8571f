import { GsonAccessError, asArray, asLong, asObject, jsonText, member, type JsonNode } from './gson-json';

/** A ThingsBoard key-value entry as stored (KeyValueType). LONG beyond 2^53 keeps its digits as a string. */
export type TbValue =
  | { type: 'BOOLEAN'; value: boolean }
  | { type: 'LONG'; value: number | string }
  | { type: 'DOUBLE'; value: number }
  | { type: 'STRING'; value: string }
  | { type: 'JSON'; value: string };

/** A conversion failure (Gson JsonSyntaxException / a RuntimeException while converting). */
export class TbConversionError extends Error {}

/**
 * commons-lang3 NumberUtils.isParsable: optional '-', digits with at most one '.', not ending in '.'; no
 * exponent, no hex, no '+'.
 */
export function isParsable(s: string): boolean {
  return /^-?(?:\d+(?:\.\d+)?|\.\d+)$/.test(s);
}

/** A decimal text as BigDecimal sees it: sign, unscaled digits, scale. */
function bigDecimal(text: string): { neg: boolean; digits: string; scale: number } {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new TbConversionError(`NumberFormatException: ${text}`);
  const frac = m[3] ?? '';
  return { neg: m[1] === '-', digits: (m[2] + frac).replace(/^0+(?=\d)/, ''), scale: frac.length - Number(m[4] ?? 0) };
}

function plain(neg: boolean, digits: string, scale: number): string {
  let s: string;
  if (scale <= 0) s = digits === '0' ? '0' : digits + '0'.repeat(-scale);
  else {
    const d = digits.padStart(scale + 1, '0');
    s = `${d.slice(0, d.length - scale)}.${d.slice(d.length - scale)}`;
  }
  return neg && /[1-9]/.test(s) ? `-${s}` : s;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** JsonConverter.buildNumericKeyValueProto with type casting on (ThingsBoard's default). */
export function numericValue(text: string): TbValue {
  const bd = bigDecimal(text);
  let digits = bd.digits;
  let scale = bd.scale;
  if (/^0+$/.test(digits)) {
    digits = '0';
    scale = 0; // BigDecimal.ZERO after stripTrailingZeros
  } else
    while (digits.length > 1 && digits.endsWith('0')) {
      digits = digits.slice(0, -1);
      scale--;
    }
  const simpleDouble = text.includes('.') && !/[eE]/.test(text);
  if (scale <= 0 && !simpleDouble) {
    const v = BigInt(plain(bd.neg, digits, scale));
    if (v < LONG_MIN || v > LONG_MAX) return { type: 'STRING', value: v.toString() };
    return { type: 'LONG', value: Number.isSafeInteger(Number(v)) ? Number(v) : v.toString() };
  }
  if (bd.scale <= 16) return { type: 'DOUBLE', value: Number(text) };
  return { type: 'STRING', value: plain(bd.neg, bd.digits, bd.scale) };
}

/**
 * JsonConverter.parseProtoValues: the values of a telemetry or attributes message, in order. A string that
 * reads as a number is stored as that number; objects and arrays are stored as JSON; `null` is skipped.
 */
export function tbValues(values: JsonNode): Array<[string, TbValue]> {
  if (values.t !== 'object') throw new TbConversionError(`Can't parse value: ${jsonText(values)}`);
  const out: Array<[string, TbValue]> = [];
  for (const [key, v] of values.members) {
    switch (v.t) {
      case 'string':
        if (isParsable(v.v)) {
          try {
            out.push([key, numericValue(v.v)]);
            break;
          } catch {
            /* stored as the string */
          }
        }
        out.push([key, { type: 'STRING', value: v.v }]);
        break;
      case 'boolean':
        out.push([key, { type: 'BOOLEAN', value: v.v }]);
        break;
      case 'number':
        out.push([key, numericValue(v.text)]);
        break;
      case 'object':
      case 'array':
        out.push([key, { type: 'JSON', value: jsonText(v) }]);
        break;
      case 'null':
        break;
    }
  }
  return out;
}

export interface TsKvList {
  ts: number;
  values: Array<[string, TbValue]>;
}

/** One telemetry object: `{"ts", "values"}` when it has both, else the whole object is values at `systemTs`. */
function telemetryObject(o: JsonNode, systemTs: number): TsKvList {
  if (o.t !== 'object') throw new TbConversionError(`Can't parse value: ${jsonText(o)}`);
  try {
    if (o.members.has('ts') && o.members.has('values')) return { ts: asLong(member(o, 'ts')), values: tbValues(asObject(member(o, 'values'))) };
  } catch (err) {
    if (err instanceof GsonAccessError) throw new TbConversionError(err.message);
    throw err;
  }
  return { ts: systemTs, values: tbValues(o) };
}

/** JsonConverter.convertToTelemetryProto (device API): an object or an array of objects. */
export function deviceTelemetry(json: JsonNode, systemTs: number): TsKvList[] {
  if (json.t === 'object') return [telemetryObject(json, systemTs)];
  if (json.t === 'array') return json.items.map((o) => telemetryObject(o, systemTs));
  throw new TbConversionError(`Can't parse value: ${jsonText(json)}`);
}

/** JsonConverter.convertToGatewayTelemetry: an array of objects; each may carry gateway `metadata`, removed first. */
export function gatewayTelemetry(json: JsonNode, systemTs: number): TsKvList[] {
  const out: TsKvList[] = [];
  for (const o of asArray(json).items) {
    if (o.t !== 'object') throw new TbConversionError(`Can't parse value: ${jsonText(o)}`);
    const meta = o.members.get('metadata');
    if (meta !== undefined) {
      if (meta.t !== 'object') throw new TbConversionError(`Can't parse gateway metadata: ${jsonText(meta)}`);
      for (const k of ['connector', 'receivedTs', 'publishedTs']) {
        const e = meta.members.get(k);
        if (e === undefined || e.t === 'null') throw new TbConversionError(`Can't parse gateway element in metadata: [${k}]`);
      }
      const rest = new Map(o.members);
      rest.delete('metadata');
      out.push(telemetryObject({ t: 'object', members: rest }, systemTs));
    } else out.push(telemetryObject(o, systemTs));
  }
  return out;
}

/** The JSON form ThingsBoard sends a stored value in (attribute updates and responses). */
export function tbValueJson(v: TbValue): string {
  switch (v.type) {
    case 'JSON':
      return v.value;
    case 'LONG':
      return String(v.value);
    default:
      return JSON.stringify(v.value);
  }
}

/** A JavaScript value typed the way an operator sets it in ThingsBoard's UI (a string stays a string). */
export function tbValueOf(v: unknown): TbValue {
  if (typeof v === 'boolean') return { type: 'BOOLEAN', value: v };
  if (typeof v === 'string') return { type: 'STRING', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'LONG', value: v } : { type: 'DOUBLE', value: v };
  return { type: 'JSON', value: JSON.stringify(v) };
}
