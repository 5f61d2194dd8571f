import Ajv, { type ErrorObject } from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { apiListenWarning } from '../api/exposure';
import { applyEnvOverrides } from './env-overrides';
import { ConfigError, type ConfigIssue } from './errors';
import { CONFIG_SCHEMA, HINTS } from './schema';
import type { AgentConfig, BleCharacteristicConfig, CampaignConfig, CampaignValueConfig, OutcomesConfig, ScriptSourceConfig, UpstreamConfig } from './types';
import type { Category } from '../../firmware-bridge/protocol';
import { normaliseUuid } from '../../drivers/ble/gatt-uuids';
import { NUMERIC_FORMATS, standardKind, type NumericFormat } from '../../drivers/ble/characteristic-decoder';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(CONFIG_SCHEMA);

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

const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

function dataAt(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const seg of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

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

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `7d`, `12h`, `30m`, `45s`, `250ms`, or a number of seconds → milliseconds; null when invalid. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : null;
  if (typeof v !== 'string') return null;
  const m = DURATION.exec(v.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

function resolveSecret(v: unknown, at: string, baseDir: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const ref = v as Record<string, unknown>;
    const keys = Object.keys(ref);
    if (keys.length === 1 && typeof ref.env === 'string') {
      const val = env[ref.env];
      if (val === undefined) issues.push({ path: at, message: `environment variable ${ref.env} is not set` });
      return val;
    }
    if (keys.length === 1 && typeof ref.file === 'string') {
      const file = path.resolve(baseDir, ref.file);
      try {
        return fs.readFileSync(file, 'utf8').trim();
      } catch (err) {
        issues.push({ path: at, message: `cannot read secret file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
        return undefined;
      }
    }
  }
  issues.push({ path: at, message: 'must be a string, { env: NAME } or { file: path }' });
  return undefined;
}

/** The base directory of a definition that must never name a file (from upstream): scriptFile is refused unread. */
const NO_FILES = '\u0000no-files';

/** `{ script: "…" }` or `{ scriptFile: path }` → the source; null when the object is neither. */
function scriptSource(o: Record<string, unknown>, at: string, baseDir: string, issues: ConfigIssue[]): ScriptSourceConfig | null {
  const extra = Object.keys(o).filter((k) => k !== 'script' && k !== 'scriptFile');
  if (typeof o.script === 'string' && o.script.trim() !== '') {
    if (extra.length || 'scriptFile' in o) issues.push({ path: at, message: 'give either script or scriptFile, nothing else' });
    return { source: o.script };
  }
  if (typeof o.scriptFile === 'string') {
    if (extra.length) issues.push({ path: `${at}.${extra[0]}`, message: 'unknown key (allowed: script or scriptFile)' });
    if (baseDir === NO_FILES) {
      issues.push({ path: `${at}.scriptFile`, message: 'files cannot be named here' });
      return { source: '' };
    }
    const file = path.resolve(baseDir, o.scriptFile);
    try {
      return { source: fs.readFileSync(file, 'utf8'), file };
    } catch (err) {
      issues.push({ path: `${at}.scriptFile`, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      return { source: '', file };
    }
  }
  return null;
}

function campaignValue(v: unknown, at: string, baseDir: string, issues: ConfigIssue[]): CampaignValueConfig {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0 || v > 100) issues.push({ path: at, message: `must be 0–100, got ${v}` });
    return { kind: 'constant', v };
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.fromUpstream === true) {
      const extra = Object.keys(o).filter((k) => k !== 'fromUpstream' && k !== 'default');
      if (extra.length) issues.push({ path: `${at}.${extra[0]}`, message: 'unknown key (allowed: fromUpstream, default)' });
      if (o.default !== undefined && (typeof o.default !== 'number' || o.default < 0 || o.default > 100)) {
        issues.push({ path: `${at}.default`, message: `must be 0–100, got ${show(o.default)}` });
      }
      return o.default === undefined ? { kind: 'upstream' } : { kind: 'upstream', default: o.default as number };
    }
    const script = scriptSource(o, at, baseDir, issues);
    if (script) return { kind: 'script', ...script };
  }
  issues.push({ path: at, message: `must be a number 0–100, { fromUpstream: true }, { script: "…" } or { scriptFile: path }, got ${show(v)}` });
  return { kind: 'constant', v: 0 };
}

/**
 * A BLE device's third-party characteristic mapping (docs/ble.md): cross-field rules the schema cannot say
 * well — one decoder per characteristic, the poll period for reads, the keys a script yields. Null for
 * devices without `characteristics:` (our firmware, other transports).
 */
function bleSensor(
  d: Record<string, unknown> & { transport: string },
  at: string,
  baseDir: string,
  issues: ConfigIssue[],
): { deviceType: string; characteristics: BleCharacteristicConfig[] } | null {
  const list = d.characteristics as Array<Record<string, unknown>> | undefined;
  if (d.transport !== 'ble') {
    if (list !== undefined) issues.push({ path: `${at}.characteristics`, message: 'only BLE devices (transport: ble) have characteristics' });
    if (d.deviceType !== undefined) issues.push({ path: `${at}.deviceType`, message: 'only BLE sensors (transport: ble with characteristics:) have a deviceType' });
    return null;
  }
  if (list === undefined) {
    if (d.deviceType !== undefined) issues.push({ path: `${at}.deviceType`, message: 'a deviceType needs characteristics: (it names a third-party sensor)' });
    return null;
  }
  const seen = new Map<string, number>();
  const keys = new Set<string>();
  const characteristics = list.map((c, j): BleCharacteristicConfig => {
    const here = `${at}.characteristics[${j}]`;
    const uuid = normaliseUuid(c.uuid as string) as string;
    const prev = seen.get(uuid);
    if (prev !== undefined) issues.push({ path: `${here}.uuid`, message: `characteristic ${show(c.uuid)} is mapped twice (also characteristics[${prev}])` });
    else seen.set(uuid, j);
    const mode = c.mode as 'notify' | 'read';
    let pollMs = 0;
    if (mode === 'read') {
      const ms = c.poll === undefined ? 60_000 : parseDuration(c.poll);
      if (ms === null || ms < 100) issues.push({ path: `${here}.poll`, message: `invalid poll period ${show(c.poll)} — use e.g. 30s or 5m (at least 100ms)` });
      else pollMs = ms;
    } else if (c.poll !== undefined) {
      issues.push({ path: `${here}.poll`, message: 'a poll period needs mode: read (notify characteristics push their values)' });
    }
    let decoder: BleCharacteristicConfig['decoder'];
    const std = standardKind(uuid);
    if (c.decoder !== undefined) {
      const raw = c.decoder;
      const script = raw && typeof raw === 'object' && !Array.isArray(raw) ? scriptSource(raw as Record<string, unknown>, `${here}.decoder`, baseDir, issues) : null;
      if (!script) issues.push({ path: `${here}.decoder`, message: `must be { script: "…" } or { scriptFile: path }, got ${show(raw)}` });
      for (const k of ['format', 'scale', 'offset', 'key', 'kind'] as const) {
        if (c[k] !== undefined) issues.push({ path: `${here}.${k}`, message: `not used with a decoder script (the script returns named values: list them in keys:)` });
      }
      if (c.keys === undefined) issues.push({ path: `${here}.keys`, message: 'required with a decoder script: the telemetry keys it returns, e.g. [temperature, humidity]' });
      decoder = script ? { kind: 'script', ...script } : { kind: 'script', source: '' };
    } else if (c.format !== undefined) {
      decoder = { kind: 'numeric', format: c.format as NumericFormat, scale: (c.scale as number | undefined) ?? 1, offset: (c.offset as number | undefined) ?? 0 };
    } else if (std) {
      for (const k of ['scale', 'offset'] as const) {
        if (c[k] !== undefined) issues.push({ path: `${here}.${k}`, message: `characteristic ${show(c.uuid)} has a fixed resolution; give a format: to scale it yourself` });
      }
      decoder = { kind: 'standard' };
    } else {
      issues.push({ path: `${here}.format`, message: `required for characteristic ${show(c.uuid)}: one of ${NUMERIC_FORMATS.join(', ')}, or give a decoder: { script: … }` });
      decoder = { kind: 'standard' };
    }
    if (decoder.kind !== 'script' && c.keys !== undefined) issues.push({ path: `${here}.keys`, message: 'keys are for decoder scripts; a built-in format yields one value (name it with key:)' });
    const channels =
      decoder.kind === 'script'
        ? ((c.keys as string[] | undefined) ?? []).map((k) => ({ key: k, kind: k }))
        : [{ key: (c.key as string | undefined) ?? (c.kind as string | undefined) ?? std ?? 'value', kind: (c.kind as string | undefined) ?? (c.key as string | undefined) ?? std ?? 'value' }];
    for (const ch of channels) {
      if (keys.has(ch.key)) issues.push({ path: `${here}.${decoder.kind === 'script' ? 'keys' : 'key'}`, message: `value "${ch.key}" already comes from another characteristic of this device` });
      keys.add(ch.key);
    }
    return {
      uuid,
      ...(typeof c.service === 'string' ? { service: normaliseUuid(c.service) as string } : {}),
      mode,
      pollMs,
      decoder,
      channels,
      category: c.category as Category,
    };
  });
  return { deviceType: (d.deviceType as string | undefined) ?? 'ble-sensor', characteristics };
}

type CampaignSource = Record<string, unknown> & { id: string; qualify: { event: string; devices?: string[] }; threshold: number; channels: string[] };

/** Cross-field checks and normal form of one schema-valid campaign (config file and upstream downlink alike). */
function normaliseCampaign(
  c: CampaignSource,
  at: string,
  devices: ReadonlyMap<string, unknown>,
  baseDir: string,
  issues: ConfigIssue[],
): CampaignConfig {
  (c.qualify.devices ?? []).forEach((d, j) => {
    if (!devices.has(d)) issues.push({ path: `${at}.qualify.devices[${j}]`, message: `unknown device "${d}" — list it under devices:` });
  });
  let cooldownMs = 0;
  if (c.cooldown !== undefined) {
    const ms = parseDuration(c.cooldown);
    if (ms === null) issues.push({ path: `${at}.cooldown`, message: `invalid duration ${show(c.cooldown)} — use e.g. 7d, 12h, 30m` });
    else cooldownMs = ms;
  }
  let condition: ScriptSourceConfig | null = null;
  const cond = (c.qualify as Record<string, unknown>).condition;
  if (cond !== undefined) {
    condition = cond && typeof cond === 'object' && !Array.isArray(cond) ? scriptSource(cond as Record<string, unknown>, `${at}.qualify.condition`, baseDir, issues) : null;
    if (!condition) issues.push({ path: `${at}.qualify.condition`, message: `must be { script: "…" } or { scriptFile: path }, got ${show(cond)}` });
  }
  return {
    id: c.id,
    qualify: {
      event: c.qualify.event,
      ...(c.qualify.devices ? { devices: c.qualify.devices } : {}),
      ...(condition ? { condition } : {}),
    },
    value: campaignValue(c.value, `${at}.value`, baseDir, issues),
    threshold: c.threshold,
    cooldownMs,
    channels: c.channels as CampaignConfig['channels'],
    ...campaignOutcomes(c, at, devices, issues),
  };
}

/** `conversion`, `dwell`, `notify` of a schema-valid campaign in normal form; left out when not given (defaults: agent/outcomes). */
function campaignOutcomes(
  c: CampaignSource,
  at: string,
  devices: ReadonlyMap<string, unknown>,
  issues: ConfigIssue[],
): Pick<CampaignConfig, 'conversion' | 'dwell' | 'notify'> {
  const duration = (v: unknown, p: string, positive: boolean): number => {
    const ms = parseDuration(v);
    if (ms === null || (positive && ms <= 0)) {
      issues.push({ path: p, message: `invalid duration ${show(v)} — use e.g. 7d, 12h, 30m${positive ? ' (more than 0)' : ''}` });
      return 0;
    }
    return ms;
  };
  const conv = c.conversion as { events?: string[]; attributionWindow?: unknown } | undefined;
  const dwell = c.dwell as { within?: unknown; cap?: unknown; devices?: string[] } | undefined;
  (dwell?.devices ?? []).forEach((d, j) => {
    if (!devices.has(d)) issues.push({ path: `${at}.dwell.devices[${j}]`, message: `unknown device "${d}" — list it under devices:` });
  });
  const notify = c.notify as CampaignConfig['notify'] | undefined;
  return {
    ...(conv
      ? { conversion: { events: conv.events ?? ['reorder'], attributionWindowMs: duration(conv.attributionWindow ?? '7d', `${at}.conversion.attributionWindow`, true) } }
      : {}),
    ...(dwell
      ? {
          dwell: {
            withinMs: duration(dwell.within ?? '30m', `${at}.dwell.within`, true),
            capMs: duration(dwell.cap ?? '4h', `${at}.dwell.cap`, true),
            ...(dwell.devices ? { devices: dwell.devices } : {}),
          },
        }
      : {}),
    ...(notify ? { notify } : {}),
  };
}

/** Top-level `outcomes:` in normal form (docs/outcomes.md). */
function outcomesSection(o: Record<string, unknown>, issues: ConfigIssue[]): OutcomesConfig {
  const seconds = (v: unknown, p: string, min: number, max: number, range: string): number => {
    const ms = parseDuration(v);
    if (ms === null || ms < min || ms > max) {
      issues.push({ path: p, message: `must be a duration from ${range}, got ${show(v)}` });
      return 0;
    }
    return ms;
  };
  const delivery = (o.delivery ?? {}) as { ackTimeout?: unknown; attempts?: number };
  return {
    signalIntervalS: seconds(o.signalInterval ?? '1h', 'outcomes.signalInterval', 1000, 7 * 86_400_000, '1s to 7d') / 1000,
    sampleIntervalS: seconds(o.sampleInterval ?? '5m', 'outcomes.sampleInterval', 1000, 86_400_000, '1s to 1d') / 1000,
    maxSamplesPerKey: (o.maxSamplesPerKey as number | undefined) ?? 2000,
    retentionDays: (o.retentionDays as number | undefined) ?? 400,
    deliveryAckTimeoutMs: seconds(delivery.ackTimeout ?? '1.5s', 'outcomes.delivery.ackTimeout', 10, 60_000, '10ms to 60s'),
    deliveryAttempts: delivery.attempts ?? 3,
  };
}

/**
 * A campaign definition arriving from upstream, checked against the same schema and rules as the config file.
 * Scripts are refused here: code does not come over the downlink. Throws ConfigError listing every problem.
 */
export function parseCampaignDefinition(raw: unknown, knownDevices: readonly string[]): CampaignConfig {
  const doc = { gateway: { id: 'downlink' }, campaigns: [raw] };
  const issues: ConfigIssue[] = [];
  const prefix = (p: string): string => p.replace(/^campaigns\[0\]\.?/, 'campaign.').replace(/\.$/, '');
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      const d = describe(e, doc);
      if (d && !issues.some((x) => x.path === prefix(d.path) && x.message === d.message)) issues.push({ path: prefix(d.path), message: d.message });
    }
    throw new ConfigError(issues.length > 0 ? issues : [{ path: 'campaign', message: 'must be an object' }]);
  }
  const c = { ...(doc.campaigns[0] as CampaignSource) };
  // No downlink names a file or carries code (issue #21): script objects are refused and removed before
  // normalising, so nothing below can open a path upstream chose; the answer is the same whatever the path.
  const v = c.value as Record<string, unknown> | undefined;
  if (v && typeof v === 'object' && (Object.hasOwn(v, 'script') || Object.hasOwn(v, 'scriptFile'))) {
    issues.push({ path: 'campaign.value', message: 'scripts cannot be set from upstream; use a number or { fromUpstream: true }' });
    c.value = 0;
  }
  if ((c.qualify as Record<string, unknown>).condition !== undefined) {
    issues.push({ path: 'campaign.qualify.condition', message: 'scripts cannot be set from upstream; define conditions in the gateway config' });
    const qualify = { ...(c.qualify as Record<string, unknown>) };
    delete qualify.condition;
    c.qualify = qualify as CampaignSource['qualify'];
  }
  const out = normaliseCampaign(c, 'campaign', new Map(knownDevices.map((d) => [d, true])), NO_FILES, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

export interface LoadedConfig {
  config: AgentConfig;
  warnings: string[];
  source: string;
}

/** Parses, validates and normalises config text; throws ConfigError listing every problem. */
export function parseConfig(text: string, opts: { sourceName: string; baseDir: string; env?: NodeJS.ProcessEnv }): LoadedConfig {
  const env = opts.env ?? process.env;
  const lineCounter = new LineCounter();
  const ydoc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (ydoc.errors.length > 0) {
    throw new ConfigError(
      ydoc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: `${opts.sourceName}${pos ? `:${pos.line}:${pos.col}` : ''}`, message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '') };
      }),
    );
  }
  let raw: unknown;
  try {
    // toJS resolves aliases: an unresolved `*x` or an alias bomb throws here (yaml caps aliases at 100).
    raw = ydoc.toJS() ?? {};
  } catch (err) {
    throw new ConfigError([{ path: opts.sourceName, message: `cannot read the YAML: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ path: opts.sourceName, message: 'the config must be a YAML mapping (gateway:, devices:, …)' }]);
  }
  const doc = raw as Record<string, unknown>;
  const { warnings } = applyEnvOverrides(doc, env);
  const issues: ConfigIssue[] = [];
  if (!validate(doc)) {
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
  }
  if (issues.length > 0) throw new ConfigError(issues);

  // Schema-valid from here on: cross-field checks and normalisation.
  const src = doc as {
    gateway: { id: string; dataDir: string };
    api: { listen: string; panel: { enabled: boolean; lanListen?: string; allowedHosts: string[]; sessionHours: number } };
    upstream?: Record<string, unknown> & { url: string; profile: 'generic' | 'thingsboard'; baseTopic: string };
    devices: Array<Record<string, unknown> & { id: string; transport: string }>;
    campaigns: Array<Record<string, unknown> & { id: string; qualify: { event: string; devices?: string[] }; threshold: number; channels: string[] }>;
    engagement: AgentConfig['engagement'];
    storage: AgentConfig['storage'];
    ingest: NonNullable<AgentConfig['ingest']>;
    consent: { policyVersion: number; requirePolicy: Record<string, number>; deviceButtonMayGrant: string[]; grants: Array<Record<string, string>> };
    scripts: { timeout: unknown; memoryMb: number; maxOutputKb: number };
    outcomes?: Record<string, unknown>;
    log: AgentConfig['log'];
  };
  const deviceIdx = new Map<string, number>();
  src.devices.forEach((d, i) => {
    const prev = deviceIdx.get(d.id);
    if (prev !== undefined) issues.push({ path: `devices[${i}].id`, message: `duplicate id "${d.id}" (also devices[${prev}])` });
    else deviceIdx.set(d.id, i);
  });
  const bleSensors = new Map<number, { deviceType: string; characteristics: BleCharacteristicConfig[] }>();
  src.devices.forEach((d, i) => {
    const sensor = bleSensor(d, `devices[${i}]`, opts.baseDir, issues);
    if (sensor) bleSensors.set(i, sensor);
  });
  const campaignIdx = new Map<string, number>();
  const campaigns = src.campaigns.map((c, i) => {
    const prev = campaignIdx.get(c.id);
    if (prev !== undefined) issues.push({ path: `campaigns[${i}].id`, message: `duplicate id "${c.id}" (also campaigns[${prev}])` });
    else campaignIdx.set(c.id, i);
    return normaliseCampaign(c, `campaigns[${i}]`, deviceIdx, opts.baseDir, issues);
  });
  const grants = src.consent.grants.map((g, i): AgentConfig['consent']['grants'][number] | null => {
    const at = `consent.grants[${i}]`;
    const keys = Object.keys(g).sort().join(',');
    if (keys === 'category,device') {
      if (!deviceIdx.has(g.device)) issues.push({ path: `${at}.device`, message: `unknown device "${g.device}"` });
      return { device: g.device, category: g.category as never };
    }
    if (keys === 'campaign,profile') {
      if (!campaignIdx.has(g.campaign)) issues.push({ path: `${at}.campaign`, message: `unknown campaign "${g.campaign}"` });
      return { profile: g.profile, campaign: g.campaign };
    }
    if (keys === 'channel,profile') return { profile: g.profile, channel: g.channel as never };
    issues.push({ path: at, message: 'must be { device, category }, { profile, campaign } or { profile, channel }' });
    return null;
  });
  let upstream: AgentConfig['upstream'];
  if (src.upstream) {
    const u = src.upstream;
    const username = resolveSecret(u.username, 'upstream.username', opts.baseDir, env, issues);
    const password = resolveSecret(u.password, 'upstream.password', opts.baseDir, env, issues);
    const accessToken = resolveSecret(u.accessToken, 'upstream.accessToken', opts.baseDir, env, issues);
    if (accessToken !== undefined && username !== undefined) {
      issues.push({ path: 'upstream.accessToken', message: 'give either accessToken (ThingsBoard) or username, not both' });
    }
    const reconnect = u.reconnect as UpstreamConfig['reconnect'];
    if (reconnect.minMs > reconnect.maxMs) issues.push({ path: 'upstream.reconnect.minMs', message: `must be <= maxMs (${reconnect.maxMs})` });
    const batch = u.batch as UpstreamConfig['batch'];
    const maxPayloadBytes = u.maxPayloadBytes as number;
    upstream = {
      url: u.url,
      profile: u.profile,
      baseTopic: u.baseTopic,
      ...(typeof u.clientId === 'string' ? { clientId: u.clientId } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(accessToken !== undefined ? { accessToken } : {}),
      keepaliveS: u.keepaliveS as number,
      maxPayloadBytes,
      batch,
      reconnect,
      ...(typeof u.ca === 'string' ? { ca: path.resolve(opts.baseDir, u.ca) } : {}),
      ...(typeof u.cert === 'string' ? { cert: path.resolve(opts.baseDir, u.cert) } : {}),
      ...(typeof u.key === 'string' ? { key: path.resolve(opts.baseDir, u.key) } : {}),
    };
  }
  const scriptTimeoutMs = parseDuration(src.scripts.timeout) ?? NaN;
  if (!(scriptTimeoutMs >= 1 && scriptTimeoutMs <= 10_000)) {
    issues.push({ path: 'scripts.timeout', message: `must be a duration from 1ms to 10s, got ${show(src.scripts.timeout)}` });
  }
  const outcomes = outcomesSection(src.outcomes ?? {}, issues);
  if (issues.length > 0) throw new ConfigError(issues);

  const config: AgentConfig = {
    gateway: { id: src.gateway.id, dataDir: path.resolve(opts.baseDir, src.gateway.dataDir) },
    api: {
      listen: src.api.listen,
      panel: {
        enabled: src.api.panel.enabled,
        ...(src.api.panel.lanListen !== undefined ? { lanListen: src.api.panel.lanListen } : {}),
        allowedHosts: src.api.panel.allowedHosts,
        sessionHours: src.api.panel.sessionHours,
      },
    },
    ...(upstream ? { upstream } : {}),
    devices: src.devices.map((d) => {
      if (d.transport === 'serial') return { id: d.id, transport: 'serial', port: d.port as string, baud: (d.baud as number | undefined) ?? 115200, ...(d.profile ? { profile: d.profile as string } : {}) };
      if (d.transport === 'ble') {
        const sensor = bleSensors.get(src.devices.indexOf(d));
        return { id: d.id, transport: 'ble', address: (d.address as string).toUpperCase(), ...(d.profile ? { profile: d.profile as string } : {}), ...(sensor ?? {}) };
      }
      return {
        id: d.id,
        transport: 'sim',
        model: d.model as 'kitchen-scale',
        ...(d.ratePerMin !== undefined ? { ratePerMin: d.ratePerMin as number } : {}),
        ...(d.profile ? { profile: d.profile as string } : {}),
      };
    }),
    campaigns,
    engagement: src.engagement,
    storage: src.storage,
    ingest: src.ingest,
    consent: {
      policyVersion: src.consent.policyVersion,
      requirePolicy: src.consent.requirePolicy,
      deviceButtonMayGrant: src.consent.deviceButtonMayGrant,
      grants: grants.filter((g): g is NonNullable<typeof g> => g !== null),
    },
    scripts: { timeoutMs: scriptTimeoutMs, memoryMb: src.scripts.memoryMb, maxOutputKb: src.scripts.maxOutputKb },
    outcomes,
    log: src.log,
  };
  const exposed = apiListenWarning(config.api.listen);
  return { config, warnings: exposed ? [...warnings, exposed] : warnings, source: opts.sourceName };
}

/** Reads and parses a config file; relative paths in it are relative to the file's directory. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        path: file,
        message: code === 'ENOENT' ? 'no such file — create one from config/example.yaml or pass --config' : `cannot read (${code ?? 'error'})`,
      },
    ]);
  }
  return parseConfig(text, { sourceName: path.basename(file), baseDir: path.dirname(path.resolve(file)), env });
}

/** An upstream section with every default filled in, for configs built in code (demo, tests, benchmarks). */
export function upstreamWithDefaults(u: Pick<UpstreamConfig, 'url'> & Partial<UpstreamConfig>): UpstreamConfig {
  return {
    profile: 'generic',
    baseTopic: 'edge',
    keepaliveS: 30,
    maxPayloadBytes: 65536,
    ...u,
    batch: { maxRows: 500, maxBytes: 65536, delayMs: 200, ...u.batch },
    reconnect: { minMs: 500, maxMs: 60000, ...u.reconnect },
  };
}
