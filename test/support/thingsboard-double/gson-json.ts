/**
 * JSON as the ThingsBoard server reads it (Gson's `JsonParser` + `JsonElement` accessors), for the broker double.
 * Numbers keep their text: ThingsBoard decides long vs double from it ("1.0" is a double, "1e3" a long), which
 * JavaScript's JSON.parse would lose. Accessors fail the way Gson's do (a missing member is a Java `null`, so
 * any use of it throws), and a one-element array answers for its element, as Gson's JsonArray does.
 *
 * Deviation: Gson parses leniently (single quotes, comments, unquoted names); this parser is strict JSON, so a
 * payload only the lenient parser accepts is refused here. The agent never sends one.
 */
export type JsonNode =
  | { t: 'object'; members: Map<string, JsonNode> }
  | { t: 'array'; items: JsonNode[] }
  | { t: 'string'; v: string }
  | { t: 'number'; text: string }
  | { t: 'boolean'; v: boolean }
  | { t: 'null' };

/** Gson's JsonSyntaxException at parse time: ThingsBoard wraps it in an AdaptorException. */
export class JsonSyntaxError extends Error {}
/** Any RuntimeException a Gson accessor throws (NPE, IllegalStateException, NumberFormatException…). */
export class GsonAccessError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseJson(text: string): JsonNode {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at offset ${i}`);
  };
  const value = (): JsonNode => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members = new Map<string, JsonNode>();
      ws();
      if (text[i] === '}') {
        i++;
        return { t: 'object', members };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a member name');
        const k = str();
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        members.set(k, value());
        ws();
        const d = text[i++];
        if (d === '}') return { t: 'object', members };
        if (d !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { t: 'array', items };
      }
      for (;;) {
        items.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return { t: 'array', items };
        if (d !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return { t: 'string', v: str() };
    if (text.startsWith('true', i)) return (i += 4), { t: 'boolean', v: true };
    if (text.startsWith('false', i)) return (i += 5), { t: 'boolean', v: false };
    if (text.startsWith('null', i)) return (i += 4), { t: 'null' };
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return { t: 'number', text: m[0] };
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i++];
      if (c === undefined) fail('unterminated string');
      if (c === '"') break;
      if (c === '\\') i++;
      else if (c < ' ') fail('control character in string');
    }
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string escape');
    }
  };
  ws();
  // Gson: an empty document is JsonNull (then "not a JSON object" fails later, as a RuntimeException)
  if (i === text.length) return { t: 'null' };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing data');
  return v;
}

/** Compact JSON text, numbers as written (what ThingsBoard stores for a JSON value). */
export function jsonText(n: JsonNode): string {
  switch (n.t) {
    case 'object':
      return `{${[...n.members].map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
    case 'array':
      return `[${n.items.map(jsonText).join(',')}]`;
    case 'string':
      return JSON.stringify(n.v);
    case 'number':
      return n.text;
    case 'boolean':
      return String(n.v);
    case 'null':
      return 'null';
  }
}

/** The node as a plain JavaScript value (numbers through Number()). */
export function jsValue(n: JsonNode): unknown {
  return JSON.parse(jsonText(n)) as unknown;
}

const access = (what: string): never => {
  throw new GsonAccessError(what);
};

/** `jsonObject.get(name)`: a missing member is Java null; using it throws a NullPointerException. */
export function member(obj: JsonNode, name: string): JsonNode {
  if (obj.t !== 'object') return access(`${obj.t} is not a JSON object`);
  return obj.members.get(name) ?? access(`missing "${name}" (NullPointerException)`);
}

export function asObject(n: JsonNode): Extract<JsonNode, { t: 'object' }> {
  return n.t === 'object' ? n : access(`Not a JSON Object: ${jsonText(n)}`);
}

export function asArray(n: JsonNode): Extract<JsonNode, { t: 'array' }> {
  return n.t === 'array' ? n : access(`Not a JSON Array: ${jsonText(n)}`);
}

/** A one-element array stands for its element (Gson JsonArray.getAsX). */
function primitive(n: JsonNode): Extract<JsonNode, { t: 'string' | 'number' | 'boolean' }> {
  if (n.t === 'array' && n.items.length === 1) return primitive(n.items[0]);
  if (n.t === 'string' || n.t === 'number' || n.t === 'boolean') return n;
  return access(`${n.t} has no primitive value`);
}

export function asString(n: JsonNode): string {
  const p = primitive(n);
  return p.t === 'string' ? p.v : p.t === 'number' ? p.text : String(p.v);
}

/** Boolean.parseBoolean for anything but a JSON boolean: only "true" (any case) is true. */
export function asBoolean(n: JsonNode): boolean {
  const p = primitive(n);
  return p.t === 'boolean' ? p.v : asString(p).toLowerCase() === 'true';
}

function integer(n: JsonNode, min: bigint, max: bigint, what: string): number {
  const p = primitive(n);
  const text = asString(p);
  let v: bigint;
  if (/^[+-]?\d+$/.test(text)) v = BigInt(text);
  else if (p.t === 'number') v = BigInt(Math.trunc(Number(text))); // LazilyParsedNumber falls back to BigDecimal, truncating
  else return access(`NumberFormatException: For input string: "${text}"`);
  if (v < min || v > max) {
    if (p.t === 'number') return Number(BigInt.asIntN(what === 'int' ? 32 : 64, v)); // a narrowing cast
    return access(`NumberFormatException: ${text} is out of ${what} range`);
  }
  return Number(v);
}

export const asLong = (n: JsonNode): number => integer(n, -(2n ** 63n), 2n ** 63n - 1n, 'long');
export const asInt = (n: JsonNode): number => integer(n, -(2n ** 31n), 2n ** 31n - 1n, 'int');
