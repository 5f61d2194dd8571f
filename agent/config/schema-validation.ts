import type { ErrorObject } from 'ajv';
import type { ConfigIssue } from './errors';
import { validate as generatedValidator } from './generated/config-validator';
import { CONFIG_SCHEMA, HINTS } from './schema';
import type { ValidatedConfig } from './types';

/**
 * The schema's validator, compiled ahead of time (scripts/dev/generate-config-validator.ts): ajv compiling it at
 * start cost ~8 MiB of RSS on a 512 MB gateway, and ajv itself is then never loaded by `run`. It fills every default
 * of the schema into the document it validates (the one place defaults are written); durations are parsed (and
 * their ranges checked) with the other cross-field rules in the normaliser, so a bad one is listed together with
 * every other problem of the file rather than alone.
 */
const validate = generatedValidator as unknown as ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** What a duration of the wrong type is told, by key (the rest: the generic one); the normaliser says the same. */
const DURATION_HINTS: Record<string, string> = { poll: 'invalid poll period %s — use e.g. 30s or 5m (at least 100ms)' };
export const badDuration = (key: string, value: unknown): string =>
  (DURATION_HINTS[key] ?? 'invalid duration %s — use e.g. 7d, 12h, 30m').replace('%s', show(value));

/**
 * Checks a config document against the schema, filling its defaults in place. The issues, one per problem (ajv
 * can report one twice), or none: then the document is a ValidatedConfig.
 */
export function validateDocument(doc: unknown): { ok: true; doc: ValidatedConfig } | { ok: false; issues: ConfigIssue[] } {
  if (validate(doc)) return { ok: true, doc: doc as ValidatedConfig };
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    const d = describe(e, doc);
    if (!d) continue;
    const k = `${d.path}\u0000${d.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      issues.push(d);
    }
  }
  return { ok: false, issues };
}

/** `/devices/2/port` → `devices[2].port` */
export function toYamlPath(pointer: string, extra?: string): string {
  const segs = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segs.push(extra);
  let out = '';
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  return out === '' ? '(top level)' : out;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function allowedKeys(schemaPath: string): string[] {
  // schemaPath like "#/properties/devices/items/additionalProperties"
  let node: unknown = CONFIG_SCHEMA;
  for (const seg of schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) {
    node = (node as Record<string, unknown>)?.[seg];
  }
  const props = (node as { properties?: Record<string, unknown> })?.properties;
  return props ? Object.keys(props) : [];
}

export const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

function dataAt(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const seg of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** One ajv error as a config issue: a YAML path and a plain message (a suggestion for a misspelt key). */
function describe(e: ErrorObject, doc: unknown): ConfigIssue | null {
  const value = dataAt(doc, e.instancePath);
  const last = e.instancePath.split('/').pop() ?? '';
  const hint = (k: string): string => (HINTS[k] ? ` (${HINTS[k]})` : '');
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const transport = (value as { transport?: string } | undefined)?.transport;
      const forWhat = e.schemaPath.includes('/allOf/') && transport ? ` for transport "${transport}"` : '';
      return { path: toYamlPath(e.instancePath, missing), message: `required${forWhat}${hint(missing)}` };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const keys = allowedKeys(e.schemaPath);
      const best = keys.map((k) => ({ k, d: editDistance(extra.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
      const suggestion =
        best && best.d <= Math.max(1, Math.floor(extra.length / 3)) ? `did you mean "${best.k}"?` : `allowed keys: ${keys.join(', ')}`;
      return { path: toYamlPath(e.instancePath, extra), message: `unknown key (${suggestion})` };
    }
    case 'type':
      // a list of types is only ever a duration's: a string like 7d or a number of seconds
      if (Array.isArray((e.params as { type: unknown }).type)) return { path: toYamlPath(e.instancePath), message: badDuration(last, value) };
      return { path: toYamlPath(e.instancePath), message: `must be ${(e.params as { type: string }).type === 'integer' ? 'a whole number' : `a ${(e.params as { type: string }).type}`}, got ${show(value)}` };
    case 'enum':
      return {
        path: toYamlPath(e.instancePath),
        message: `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map(String).join(', ')}, got ${show(value)}`,
      };
    case 'pattern':
      return { path: toYamlPath(e.instancePath), message: `invalid value ${show(value)}${hint(last)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const p = e.params as { comparison: string; limit: number };
      return { path: toYamlPath(e.instancePath), message: `must be ${p.comparison} ${p.limit}, got ${show(value)}` };
    }
    case 'minItems':
      return { path: toYamlPath(e.instancePath), message: `needs at least ${(e.params as { limit: number }).limit} entry` };
    case 'minLength':
      return { path: toYamlPath(e.instancePath), message: 'must not be empty' };
    case 'uniqueItems':
      return { path: toYamlPath(e.instancePath), message: 'lists the same entry twice' };
    case 'if':
      return null; // the failing `then` is reported on its own
    default:
      return { path: toYamlPath(e.instancePath), message: e.message ?? 'invalid' };
  }
}
