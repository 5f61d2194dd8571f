import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDuration } from './duration';
import { ConfigError, type ConfigIssue } from './errors';
import { badDuration, show, validateDocument } from './schema-validation';
import type {
  AgentConfig,
  BleCharacteristicConfig,
  CampaignConfig,
  CampaignValueConfig,
  ConsentGrantConfig,
  DeviceConfig,
  OutcomesConfig,
  ScriptSourceConfig,
  SimModel,
  ValidatedConfig,
} from './types';
import { normaliseUuid } from '../../drivers/ble/gatt-uuids';
import { NUMERIC_FORMATS, standardKind } from '../../drivers/ble/characteristic-decoder';

/**
 * What a schema cannot say, done to a schema-valid document: secrets from the environment or a file, paths made
 * absolute, scripts read, cross-field rules (ids unique and known, one decoder per characteristic), durations in
 * milliseconds. Every default was filled by the schema before this runs.
 */
export function normaliseConfig(src: ValidatedConfig, opts: { baseDir: string; env: NodeJS.ProcessEnv }): AgentConfig {
  const issues: ConfigIssue[] = [];
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
  const grants = src.consent.grants.map((g, i): ConsentGrantConfig | null => {
    const at = `consent.grants[${i}]`;
    const keys = Object.keys(g).sort().join(',');
    // the keys say which fields are there
    if (keys === 'category,device' && g.device !== undefined && g.category !== undefined) {
      if (!deviceIdx.has(g.device)) issues.push({ path: `${at}.device`, message: `unknown device "${g.device}"` });
      return { device: g.device, category: g.category };
    }
    if (keys === 'campaign,profile' && g.profile !== undefined && g.campaign !== undefined) {
      if (!campaignIdx.has(g.campaign)) issues.push({ path: `${at}.campaign`, message: `unknown campaign "${g.campaign}"` });
      return { profile: g.profile, campaign: g.campaign };
    }
    if (keys === 'channel,profile' && g.profile !== undefined && g.channel !== undefined) return { profile: g.profile, channel: g.channel };
    issues.push({ path: at, message: 'must be { device, category }, { profile, campaign } or { profile, channel }' });
    return null;
  });
  let upstream: AgentConfig['upstream'];
  if (src.upstream) {
    const u = src.upstream;
    const username = resolveSecret(u.username, 'upstream.username', opts.baseDir, opts.env, issues);
    const password = resolveSecret(u.password, 'upstream.password', opts.baseDir, opts.env, issues);
    const accessToken = resolveSecret(u.accessToken, 'upstream.accessToken', opts.baseDir, opts.env, issues);
    if (accessToken !== undefined && username !== undefined) {
      issues.push({ path: 'upstream.accessToken', message: 'give either accessToken (ThingsBoard) or username, not both' });
    }
    const { reconnect, batch, maxPayloadBytes } = u;
    if (reconnect.minMs > reconnect.maxMs) issues.push({ path: 'upstream.reconnect.minMs', message: `must be <= maxMs (${reconnect.maxMs})` });
    upstream = {
      url: u.url,
      profile: u.profile,
      baseTopic: u.baseTopic,
      ...(u.clientId !== undefined ? { clientId: u.clientId } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(accessToken !== undefined ? { accessToken } : {}),
      keepaliveS: u.keepaliveS,
      maxPayloadBytes,
      batch,
      reconnect,
      ...(u.ca !== undefined ? { ca: path.resolve(opts.baseDir, u.ca) } : {}),
      ...(u.cert !== undefined ? { cert: path.resolve(opts.baseDir, u.cert) } : {}),
      ...(u.key !== undefined ? { key: path.resolve(opts.baseDir, u.key) } : {}),
    };
  }
  const scriptTimeoutMs = parseDuration(src.scripts.timeout) ?? NaN;
  if (!(scriptTimeoutMs >= 1 && scriptTimeoutMs <= 10_000)) {
    issues.push({ path: 'scripts.timeout', message: `must be a duration from 1ms to 10s, got ${show(src.scripts.timeout)}` });
  }
  const outcomes = outcomesSection(src.outcomes, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    gateway: { id: src.gateway.id, dataDir: path.resolve(opts.baseDir, src.gateway.dataDir) },
    api: src.api,
    ...(upstream ? { upstream } : {}),
    // port, address and model are required for their transport by the schema (allOf/if/then)
    devices: src.devices.map((d, i): DeviceConfig => {
      const profile = d.profile ? { profile: d.profile } : {};
      if (d.transport === 'serial') return { id: d.id, transport: 'serial', port: d.port as string, baud: d.baud, ...profile };
      if (d.transport === 'ble') return { id: d.id, transport: 'ble', address: (d.address as string).toUpperCase(), ...profile, ...(bleSensors.get(i) ?? {}) };
      return { id: d.id, transport: 'sim', model: d.model as SimModel, ...(d.ratePerMin !== undefined ? { ratePerMin: d.ratePerMin } : {}), ...profile };
    }),
    campaigns,
    engagement: src.engagement,
    storage: src.storage,
    ingest: src.ingest,
    consent: { ...src.consent, grants: grants.filter((g): g is ConsentGrantConfig => g !== null) },
    scripts: { timeoutMs: scriptTimeoutMs, memoryMb: src.scripts.memoryMb, maxOutputKb: src.scripts.maxOutputKb },
    outcomes,
    firmware: src.firmware,
    log: src.log,
  };
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

/** `{ script: "…" }` or `{ scriptFile: path }`, optionally with `language: tbel|js` → the source; null when the object is neither. */
function scriptSource(o: Record<string, unknown>, at: string, baseDir: string, issues: ConfigIssue[]): ScriptSourceConfig | null {
  const extra = Object.keys(o).filter((k) => k !== 'script' && k !== 'scriptFile' && k !== 'language');
  const lang: Pick<ScriptSourceConfig, 'language'> = {};
  if (o.language !== undefined) {
    if (o.language === 'tbel' || o.language === 'js') lang.language = o.language;
    else issues.push({ path: `${at}.language`, message: `must be tbel or js, got ${show(o.language)}` });
  }
  if (typeof o.script === 'string' && o.script.trim() !== '') {
    if (extra.length || 'scriptFile' in o) issues.push({ path: at, message: 'give either script or scriptFile (and optionally language), nothing else' });
    return { source: o.script, ...lang };
  }
  if (typeof o.scriptFile === 'string') {
    if (extra.length) issues.push({ path: `${at}.${extra[0]}`, message: 'unknown key (allowed: script or scriptFile, language)' });
    if (baseDir === NO_FILES) {
      issues.push({ path: `${at}.scriptFile`, message: 'files cannot be named here' });
      return { source: '' };
    }
    const file = path.resolve(baseDir, o.scriptFile);
    // a .tbel/.mvel file is TBEL unless language says otherwise
    if (lang.language === undefined && /\.(tbel|mvel)$/i.test(file)) lang.language = 'tbel';
    try {
      return { source: fs.readFileSync(file, 'utf8'), file, ...lang };
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
  d: DeviceSource,
  at: string,
  baseDir: string,
  issues: ConfigIssue[],
): { deviceType: string; characteristics: BleCharacteristicConfig[] } | null {
  const list = d.characteristics;
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
    const uuid = normaliseUuid(c.uuid) as string;
    const prev = seen.get(uuid);
    if (prev !== undefined) issues.push({ path: `${here}.uuid`, message: `characteristic ${show(c.uuid)} is mapped twice (also characteristics[${prev}])` });
    else seen.set(uuid, j);
    const mode = c.mode;
    let pollMs = 0;
    if (mode === 'read') {
      const ms = c.poll === undefined ? DEFAULT_POLL_MS : parseDuration(c.poll);
      if (ms === null || ms < 100) issues.push({ path: `${here}.poll`, message: badDuration('poll', c.poll) });
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
      decoder = { kind: 'numeric', format: c.format, scale: c.scale ?? 1, offset: c.offset ?? 0 };
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
        ? (c.keys ?? []).map((k) => ({ key: k, kind: k }))
        : [{ key: c.key ?? c.kind ?? std ?? 'value', kind: c.kind ?? c.key ?? std ?? 'value' }];
    for (const ch of channels) {
      if (keys.has(ch.key)) issues.push({ path: `${here}.${decoder.kind === 'script' ? 'keys' : 'key'}`, message: `value "${ch.key}" already comes from another characteristic of this device` });
      keys.add(ch.key);
    }
    return {
      uuid,
      ...(c.service !== undefined ? { service: normaliseUuid(c.service) as string } : {}),
      mode,
      pollMs,
      decoder,
      channels,
      category: c.category,
    };
  });
  return { deviceType: d.deviceType ?? 'ble-sensor', characteristics };
}

type CampaignSource = ValidatedConfig['campaigns'][number];
type DeviceSource = ValidatedConfig['devices'][number];

/** A read characteristic without `poll:` is read once a minute (only read characteristics have a period). */
const DEFAULT_POLL_MS = 60_000;

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
  const ms = parseDuration(c.cooldown);
  if (ms === null) issues.push({ path: `${at}.cooldown`, message: badDuration('cooldown', c.cooldown) });
  else cooldownMs = ms;
  let condition: ScriptSourceConfig | null = null;
  const cond = c.qualify.condition;
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
    channels: c.channels,
    ...campaignOutcomes(c, at, devices, issues),
  };
}

/** `conversion`, `dwell`, `notify` of a schema-valid campaign in normal form (the schema filled the defaults). */
function campaignOutcomes(
  c: CampaignSource,
  at: string,
  devices: ReadonlyMap<string, unknown>,
  issues: ConfigIssue[],
): Pick<CampaignConfig, 'conversion' | 'dwell' | 'notify'> {
  const duration = (v: unknown, p: string, positive: boolean): number => {
    const ms = parseDuration(v);
    if (ms === null || (positive && ms <= 0)) {
      issues.push({ path: p, message: `${badDuration('', v)}${positive ? ' (more than 0)' : ''}` });
      return 0;
    }
    return ms;
  };
  const { conversion: conv, dwell, notify } = c;
  (dwell.devices ?? []).forEach((d, j) => {
    if (!devices.has(d)) issues.push({ path: `${at}.dwell.devices[${j}]`, message: `unknown device "${d}" — list it under devices:` });
  });
  return {
    conversion: { events: conv.events, attributionWindowMs: duration(conv.attributionWindow, `${at}.conversion.attributionWindow`, true) },
    dwell: {
      withinMs: duration(dwell.within, `${at}.dwell.within`, true),
      capMs: duration(dwell.cap, `${at}.dwell.cap`, true),
      ...(dwell.devices ? { devices: dwell.devices } : {}),
    },
    ...(notify ? { notify } : {}),
  };
}

/** Top-level `outcomes:` in normal form (docs/outcomes.md). */
function outcomesSection(o: ValidatedConfig['outcomes'], issues: ConfigIssue[]): OutcomesConfig {
  const seconds = (v: unknown, p: string, min: number, max: number, range: string): number => {
    const ms = parseDuration(v);
    if (ms === null || ms < min || ms > max) {
      issues.push({ path: p, message: `must be a duration from ${range}, got ${show(v)}` });
      return 0;
    }
    return ms;
  };
  return {
    signalIntervalS: seconds(o.signalInterval, 'outcomes.signalInterval', 1000, 7 * 86_400_000, '1s to 7d') / 1000,
    sampleIntervalS: seconds(o.sampleInterval, 'outcomes.sampleInterval', 1000, 86_400_000, '1s to 1d') / 1000,
    maxSamplesPerKey: o.maxSamplesPerKey,
    retentionDays: o.retentionDays,
    deliveryAckTimeoutMs: seconds(o.delivery.ackTimeout, 'outcomes.delivery.ackTimeout', 10, 60_000, '10ms to 60s'),
    deliveryAttempts: o.delivery.attempts,
  };
}

/**
 * A campaign definition arriving from upstream, checked against the same schema and rules as the config file.
 * Scripts are refused here: code does not come over the downlink. Throws ConfigError listing every problem.
 */
export function parseCampaignDefinition(raw: unknown, knownDevices: readonly string[]): CampaignConfig {
  const issues: ConfigIssue[] = [];
  const prefix = (p: string): string => p.replace(/^campaigns\[0\]\.?/, 'campaign.').replace(/\.$/, '');
  const checked = validateDocument({ gateway: { id: 'downlink' }, campaigns: [raw] });
  if (!checked.ok) {
    for (const d of checked.issues) {
      if (!issues.some((x) => x.path === prefix(d.path) && x.message === d.message)) issues.push({ path: prefix(d.path), message: d.message });
    }
    throw new ConfigError(issues.length > 0 ? issues : [{ path: 'campaign', message: 'must be an object' }]);
  }
  const c = { ...checked.doc.campaigns[0] };
  // No downlink names a file or carries code (issue #21): script objects are refused and removed before
  // normalising, so nothing below can open a path upstream chose; the answer is the same whatever the path.
  const v = c.value as Record<string, unknown> | undefined;
  if (v && typeof v === 'object' && (Object.hasOwn(v, 'script') || Object.hasOwn(v, 'scriptFile'))) {
    issues.push({ path: 'campaign.value', message: 'scripts cannot be set from upstream; use a number or { fromUpstream: true }' });
    c.value = 0;
  }
  if (c.qualify.condition !== undefined) {
    issues.push({ path: 'campaign.qualify.condition', message: 'scripts cannot be set from upstream; define conditions in the gateway config' });
    const qualify = { ...c.qualify };
    delete qualify.condition;
    c.qualify = qualify;
  }
  const out = normaliseCampaign(c, 'campaign', new Map(knownDevices.map((d) => [d, true])), NO_FILES, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

