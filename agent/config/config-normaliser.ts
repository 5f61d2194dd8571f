import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDuration } from './duration';
import { ConfigError, type ConfigIssue } from './errors';
import { badDuration, show } from './schema-validation';
import { normaliseCampaign, outcomesSection } from './campaign-normaliser';
import { scriptSource } from './script-source';
import { DEFAULT_CHUNK_BYTES } from '../firmware-update/chunk-size';
import type {
  AgentConfig,
  BleCharacteristicConfig,
  ConsentGrantConfig,
  DeviceConfig,
  SimModel,
  ValidatedConfig,
} from './types';
import { DEFAULT_SENSOR_MODEL } from '../../drivers/ble/ble-device-spec';
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
    firmware: { ...src.firmware, chunkBytes: src.firmware.chunkBytes ?? DEFAULT_CHUNK_BYTES[src.upstream?.profile ?? 'generic'] },
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
  return { deviceType: d.deviceType ?? DEFAULT_SENSOR_MODEL, characteristics };
}

type DeviceSource = ValidatedConfig['devices'][number];

/** A read characteristic without `poll:` is read once a minute (only read characteristics have a period). */
const DEFAULT_POLL_MS = 60_000;
