/**
 * The shapes of user scripts (DESIGN §8), as data: which parameters a pasted function body receives, which named
 * function a full-script form may declare, and what a call must return. Signatures follow ThingsBoard so its
 * users can paste their scripts unchanged: uplink converters `Decoder(payload, metadata)`, rule-node scripts
 * `function (msg, metadata, msgType)`.
 */
export type ScriptKind = 'decoder' | 'rule' | 'condition' | 'score';
export const SCRIPT_KINDS: readonly ScriptKind[] = ['decoder', 'rule', 'condition', 'score'];

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

export type TelemetryValue = number | string | boolean;

/** One decoded message, normalised from the ThingsBoard converter forms. */
export interface DecodedMessage {
  deviceName?: string;
  deviceType?: string;
  telemetry: Array<{ ts?: number; values: Record<string, TelemetryValue> }>;
  attributes: Record<string, unknown>;
  /** edge-agent extension: named events (`dispense`, `door_open`…) the message carries */
  events: string[];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

function checkValues(v: unknown, at: string): Checked<Record<string, TelemetryValue>> {
  if (!isPlainObject(v)) return { ok: false, message: `${at} must be an object of key: value, got ${shown(v)}` };
  for (const [k, x] of Object.entries(v)) {
    if (!(typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean')) {
      return { ok: false, message: `${at}.${k} must be a number, string or boolean, got ${shown(x)}` };
    }
  }
  return { ok: true, value: v as Record<string, TelemetryValue> };
}

function checkTelemetry(t: unknown, at: string): Checked<DecodedMessage['telemetry']> {
  if (t === undefined || t === null) return { ok: true, value: [] };
  const items = Array.isArray(t) ? t : [t];
  const out: DecodedMessage['telemetry'] = [];
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    const where = Array.isArray(t) ? `${at}[${i}]` : at;
    if (isPlainObject(item) && 'values' in item) {
      const ts = item.ts;
      if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) return { ok: false, message: `${where}.ts must be a number (ms since epoch)` };
      const values = checkValues(item.values, `${where}.values`);
      if (!values.ok) return values;
      out.push(ts === undefined ? { values: values.value } : { ts: ts as number, values: values.value });
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
  if (m.attributes !== undefined && !isPlainObject(m.attributes)) return { ok: false, message: `${at}.attributes must be an object` };
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
  const out: DecodedMessage = { telemetry: telemetry.value, attributes: (m.attributes as Record<string, unknown> | undefined) ?? {}, events };
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
