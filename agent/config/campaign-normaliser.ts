import { parseDuration } from './duration';
import { ConfigError, type ConfigIssue } from './errors';
import { badDuration, show, validateDocument } from './schema-validation';
import { NO_FILES, scriptSource } from './script-source';
import type { CampaignConfig, CampaignValueConfig, OutcomesConfig, ScriptSourceConfig, ValidatedConfig } from './types';

/*
 * Campaigns in normal form: the config file's and the ones that arrive from upstream (parseCampaignDefinition),
 * through the same checks.
 */

type CampaignSource = ValidatedConfig['campaigns'][number];

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

/** Cross-field checks and normal form of one schema-valid campaign (config file and upstream downlink alike). */
export function normaliseCampaign(
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
export function outcomesSection(o: ValidatedConfig['outcomes'], issues: ConfigIssue[]): OutcomesConfig {
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
