import type { AgentConfig, ConfigIssue, ScriptSourceConfig } from '../config';
import type { ScriptLimits } from './script-limits';
import type { ScriptDefinition, ScriptHost } from './script-host';

/** A script from the config, with the config path it came from (for `config validate`). */
export interface ConfiguredScript extends ScriptDefinition {
  path: string;
}

export const campaignScriptId = (campaign: string, role: 'value' | 'condition'): string => `campaign/${campaign}/${role}`;
/** A BLE sensor's `decoder:` script, one per mapped characteristic (docs/ble.md). */
export const bleDecoderScriptId = (device: string, characteristic: number): string => `ble/${device}/characteristics[${characteristic}]`;

/** Every script the config defines: campaign V scoring functions, qualify conditions, BLE sensor decoders. */
export function configuredScripts(config: AgentConfig): ConfiguredScript[] {
  const out: ConfiguredScript[] = [];
  const add = (id: string, kind: ScriptDefinition['kind'], s: ScriptSourceConfig, at: string): void => {
    out.push({ id, kind, source: s.source, ...(s.file ? { file: s.file } : {}), ...(s.language ? { language: s.language } : {}), path: s.file ? `${at}.scriptFile` : `${at}.script` });
  };
  config.campaigns.forEach((c, i) => {
    if (c.value.kind === 'script') add(campaignScriptId(c.id, 'value'), 'score', c.value, `campaigns[${i}].value`);
    if (c.qualify.condition) add(campaignScriptId(c.id, 'condition'), 'condition', c.qualify.condition, `campaigns[${i}].qualify.condition`);
  });
  config.devices.forEach((d, i) => {
    if (d.transport !== 'ble') return;
    d.characteristics?.forEach((c, j) => {
      if (c.decoder.kind === 'script') add(bleDecoderScriptId(d.id, j), 'decoder', c.decoder, `devices[${i}].characteristics[${j}].decoder`);
    });
  });
  return out;
}

export function scriptLimits(config: AgentConfig): Partial<ScriptLimits> {
  return { timeoutMs: config.scripts.timeoutMs, memoryBytes: config.scripts.memoryMb * 1048576, maxOutputBytes: config.scripts.maxOutputKb * 1024 };
}

/** Compiles every configured script into the host; compile errors come back as config issues with line numbers. */
export async function loadConfiguredScripts(host: ScriptHost, config: AgentConfig): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  for (const s of configuredScripts(config)) {
    const err = await host.add(s);
    if (!err) continue;
    const where = err.where(s.file);
    issues.push({ path: s.path, message: `${err.kind} error${where ? ` at ${where}` : ''}: ${err.detail}` });
  }
  return issues;
}
