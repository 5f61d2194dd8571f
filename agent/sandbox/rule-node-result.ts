import type { Checked } from './script-kind';

/** A rule-engine message as ThingsBoard's script nodes see it: payload, string metadata, type. */
export interface RuleMessage {
  msg: unknown;
  metadata: Record<string, string>;
  msgType: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const kindOf = (v: unknown): string => (v === null ? 'NULL' : Array.isArray(v) ? 'ARRAY' : typeof v === 'string' ? 'STRING' : typeof v === 'object' ? 'OBJECT' : typeof v === 'number' ? 'NUMBER' : 'BOOLEAN');
/** ThingsBoard's words for a result of the wrong JSON kind (a ClassCastException in its script engine) */
const wrongType = (v: unknown): { ok: false; message: string } => ({ ok: false, message: `Wrong result type: ${kindOf(v)}` });

/**
 * One result object as ThingsBoard turns it back into a message: `msg`, `metadata`, `msgType` each taken when
 * present, else kept from the input; metadata values become strings (ThingsBoard's metadata is string → string),
 * an empty `msgType` keeps the input's.
 */
function unbind(r: unknown, input: RuleMessage): Checked<RuleMessage> {
  if (!isPlainObject(r)) return { ok: true, value: input }; // nothing to take from it: the input goes on
  const out: RuleMessage = { ...input };
  if (Object.hasOwn(r, 'msg')) out.msg = r.msg;
  if (Object.hasOwn(r, 'metadata')) {
    const m = r.metadata;
    if (!isPlainObject(m)) return { ok: false, message: `metadata must be an object of strings, got ${kindOf(m)}` };
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) {
      if (v === null) continue;
      if (typeof v === 'object') return { ok: false, message: `metadata.${k} must be a string, number or boolean, got ${kindOf(v)}` };
      md[k] = String(v);
    }
    out.metadata = md;
  }
  if (Object.hasOwn(r, 'msgType')) {
    const t = r.msgType;
    const text = typeof t === 'string' ? t : typeof t === 'number' || typeof t === 'boolean' ? String(t) : '';
    if (text !== '') out.msgType = text;
  }
  return { ok: true, value: out };
}

/** Transformation node: an object (one message) or an array (one message per element). */
export function checkTransform(result: unknown, input: RuleMessage): Checked<RuleMessage[]> {
  const list = isPlainObject(result) ? [result] : Array.isArray(result) ? result : null;
  if (!list) return wrongType(result);
  const out: RuleMessage[] = [];
  for (const r of list) {
    const m = unbind(r, input);
    if (!m.ok) return m;
    out.push(m.value);
  }
  return { ok: true, value: out };
}

/** Generator node: one object, unbound against the previous message. */
export function checkGenerated(result: unknown, prev: RuleMessage): Checked<RuleMessage> {
  return isPlainObject(result) ? unbind(result, prev) : wrongType(result);
}

/** Switch node: one relation name or an array of them (duplicates collapse). */
export function checkSwitch(result: unknown): Checked<string[]> {
  if (typeof result === 'string') return { ok: true, value: [result] };
  if (!Array.isArray(result)) return wrongType(result);
  const out: string[] = [];
  for (const r of result) {
    if (typeof r !== 'string') return wrongType(r);
    if (!out.includes(r)) out.push(r);
  }
  return { ok: true, value: out };
}

/** What the generator node starts from: payload `{}`, no metadata, an empty type. */
export const FIRST_GENERATOR_INPUT: RuleMessage = { msg: {}, metadata: {}, msgType: '' };
