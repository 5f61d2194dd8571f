import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { apiListenWarning } from '../api/exposure';
import { applyEnvOverrides } from './env-overrides';
import { ConfigError } from './errors';
import { normaliseConfig } from './config-normaliser';
import { validateDocument } from './schema-validation';
import type { AgentConfig, ConfigInput } from './types';

export { toYamlPath } from './schema-validation';
export { parseCampaignDefinition } from './campaign-normaliser';

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
  const config = validated(doc, { baseDir: opts.baseDir, env });
  const exposed = apiListenWarning(config.api.listen);
  return { config, warnings: exposed ? [...warnings, exposed] : warnings, source: opts.sourceName };
}

/** The one path from a document to an AgentConfig: schema (defaults filled), then what a schema cannot say. */
function validated(doc: unknown, opts: { baseDir: string; env: NodeJS.ProcessEnv }): AgentConfig {
  const checked = validateDocument(doc);
  if (!checked.ok) throw new ConfigError(checked.issues);
  return normaliseConfig(checked.doc, opts);
}

/**
 * A config built in code (the demo, tests, benchmarks) goes through the same validation as a file: same defaults,
 * same checks, same errors (ConfigError). Relative paths are relative to `baseDir`; no environment overrides.
 */
export function buildConfig(input: ConfigInput, opts: { baseDir?: string; env?: NodeJS.ProcessEnv } = {}): AgentConfig {
  return validated(structuredClone(input), { baseDir: opts.baseDir ?? process.cwd(), env: opts.env ?? {} });
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
