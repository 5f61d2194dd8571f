/**
 * The shapes of user scripts (DESIGN §8), as data: which parameters a pasted function body receives, which named
 * function a full-script form may declare, and what a call must return. Signatures follow ThingsBoard so its
 * users can paste their scripts unchanged: uplink converters `Decoder(payload, metadata)`, rule-node scripts
 * `function (msg, metadata, msgType)`.
 */
export type ScriptKind = 'decoder' | 'rule' | 'condition' | 'score' | 'transform' | 'switch' | 'generator';
export const SCRIPT_KINDS: readonly ScriptKind[] = ['decoder', 'rule', 'condition', 'score', 'transform', 'switch', 'generator'];

interface KindShape {
  params: readonly string[];
  /** function names a script may declare instead of returning from the body (ThingsBoard converter style) */
  entries: readonly string[];
  /** what the script must return, for error messages and docs */
  returns: string;
}

export const KIND_SHAPES: Record<ScriptKind, KindShape> = {
  decoder: { params: ['payload', 'metadata'], entries: ['Decoder', 'decoder', 'decodeUplink'], returns: '{ telemetry, attributes } (or an array of them)' },
  rule: { params: ['msg', 'metadata', 'msgType'], entries: [], returns: 'any JSON value' },
  condition: { params: ['msg', 'metadata', 'msgType'], entries: [], returns: 'true or false' },
  score: { params: ['features'], entries: ['score', 'Score', 'value'], returns: 'a number 0–100' },
  // ThingsBoard's rule nodes (`script test` only): their wrappers name the parameters the same way
  transform: { params: ['msg', 'metadata', 'msgType'], entries: [], returns: '{ msg?, metadata?, msgType? } or an array of them' },
  switch: { params: ['msg', 'metadata', 'msgType'], entries: [], returns: 'a relation name or an array of them' },
  generator: { params: ['prevMsg', 'prevMetadata', 'prevMsgType'], entries: [], returns: '{ msg, metadata, msgType }' },
};

/**
 * The function expression a body-form script is compiled as. The source starts on line 2, so reported lines
 * are shifted back by one (`BODY_LINE_OFFSET`). Declared entry functions are called when the body itself
 * returns nothing (function declarations are hoisted, so they may sit anywhere in the body).
 */
export function bodyWrapper(kind: ScriptKind, source: string): string {
  const { params, entries } = KIND_SHAPES[kind];
  const args = params.join(', ');
  const tail = entries.map((e) => `if (typeof ${e} === 'function') return ${e}(${args});`).join(' ');
  return `(function (${args}) {\n${source}\n;${tail}\n})`;
}
export const BODY_LINE_OFFSET = 1;

/** A JSON object or array value: ThingsBoard stores it as JSON. */
export type JsonCompound = readonly unknown[] | { readonly [key: string]: unknown };
export type TelemetryValue = number | string | boolean | JsonCompound;

/** One decoded message, normalised from the ThingsBoard converter forms to what ThingsBoard would store. */
export interface DecodedMessage {
  deviceName?: string;
  deviceType?: string;
  telemetry: Array<{ ts?: number; values: Record<string, TelemetryValue> }>;
  attributes: Record<string, TelemetryValue>;
  /** edge-agent extension: named events (`dispense`, `door_open`…) the message carries */
  events: string[];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * A string ThingsBoard reads as a number (commons-lang NumberUtils.isParsable: optional '-', digits, at most
 * one '.', no exponent). An integer too large for a double to hold exactly stays text, as ThingsBoard keeps
 * integers beyond a long as text.
 */
function numericString(s: string): number | null {
  if (!/^-?(?:\d+(?:\.\d+)?|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  return s.includes('.') || Number.isSafeInteger(n) ? n : null;
}

/**
 * Values as ThingsBoard's JsonConverter takes them: numbers, booleans and strings (a numeric string becomes its
 * number), objects and arrays kept as JSON, `null` skipped.
 */
function checkValues(v: unknown, at: string): Checked<Record<string, TelemetryValue>> {
  if (!isPlainObject(v)) return { ok: false, message: `${at} must be an object of key: value, got ${shown(v)}` };
  const out: Record<string, TelemetryValue> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null) continue;
    if (typeof x === 'string') out[k] = numericString(x) ?? x;
    else if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'object') out[k] = x as TelemetryValue;
    else return { ok: false, message: `${at}.${k} must be a number, string, boolean, object or array, got ${shown(x)}` };
  }
  return { ok: true, value: out };
}

/**
 * `ts` as ThingsBoard reads it (Gson getAsLong): a number (fraction dropped) or a string of digits. An ISO-8601
 * time is accepted too: ThingsBoard's own converter library returns `ts` that way.
 */
function checkTs(ts: unknown, at: string): Checked<number> {
  if (typeof ts === 'number' && Number.isFinite(ts)) return { ok: true, value: Math.trunc(ts) };
  if (typeof ts === 'string') {
    if (/^[+-]?\d{1,16}$/.test(ts)) return { ok: true, value: Number(ts) };
    if (/^\d{4}-\d{2}-\d{2}T/.test(ts) && !Number.isNaN(Date.parse(ts))) return { ok: true, value: Date.parse(ts) };
  }
  return { ok: false, message: `${at} must be ms since epoch (a number or a string of digits) or an ISO-8601 time, got ${shown(ts)}` };
}

function checkTelemetry(t: unknown, at: string): Checked<DecodedMessage['telemetry']> {
  if (t === undefined || t === null) return { ok: true, value: [] };
  const items = Array.isArray(t) ? t : [t];
  const out: DecodedMessage['telemetry'] = [];
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    const where = Array.isArray(t) ? `${at}[${i}]` : at;
    // ThingsBoard: an object with both `ts` and `values` is timestamped; any other object is the values
    if (isPlainObject(item) && Object.hasOwn(item, 'ts') && Object.hasOwn(item, 'values')) {
      const ts = checkTs(item.ts, `${where}.ts`);
      if (!ts.ok) return ts;
      const values = checkValues(item.values, `${where}.values`);
      if (!values.ok) return values;
      out.push({ ts: ts.value, values: values.value });
    } else {
      const values = checkValues(item, where);
      if (!values.ok) return values;
      out.push({ values: values.value });
    }
  }
  return { ok: true, value: out };
}

function checkMessage(m: unknown, at: string): Checked<DecodedMessage> {
  if (!isPlainObject(m)) return { ok: false, message: `${at} must be an object like { telemetry: {...} }, got ${shown(m)}` };
  const telemetry = checkTelemetry(m.telemetry, `${at}.telemetry`);
  if (!telemetry.ok) return telemetry;
  let attributes: Record<string, TelemetryValue> = {};
  if (m.attributes !== undefined && m.attributes !== null) {
    const checked = checkValues(m.attributes, `${at}.attributes`);
    if (!checked.ok) return checked;
    attributes = checked.value;
  }
  const events: string[] = [];
  for (const key of ['event', 'events'] as const) {
    const e = m[key];
    if (e === undefined || e === null) continue;
    const list: unknown[] = Array.isArray(e) ? e : [e];
    for (const x of list) {
      if (typeof x !== 'string' || x === '') return { ok: false, message: `${at}.${key} must be an event name or a list of them, got ${shown(x)}` };
      events.push(x);
    }
  }
  const out: DecodedMessage = { telemetry: telemetry.value, attributes, events };
  if (typeof m.deviceName === 'string') out.deviceName = m.deviceName;
  if (typeof m.deviceType === 'string') out.deviceType = m.deviceType;
  return { ok: true, value: out };
}

/** Checks a decoder's result: one message or an array of them (ThingsBoard converters return either). */
export function checkDecoded(result: unknown): Checked<DecodedMessage[]> {
  const list = Array.isArray(result) ? result : [result];
  const out: DecodedMessage[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = checkMessage(list[i], Array.isArray(result) ? `result[${i}]` : 'result');
    if (!m.ok) return m;
    out.push(m.value);
  }
  return { ok: true, value: out };
}

export function checkScore(result: unknown): Checked<number> {
  if (typeof result !== 'number' || !Number.isFinite(result) || result < 0 || result > 100) {
    return { ok: false, message: `must return a number 0–100, got ${shown(result)}` };
  }
  return { ok: true, value: result };
}

export function checkCondition(result: unknown): Checked<boolean> {
  if (typeof result !== 'boolean') return { ok: false, message: `must return true or false, got ${shown(result)}` };
  return { ok: true, value: result };
}
