import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './cli-error';

export const SYSTEM_CONFIG = '/etc/edge-agent/config.yaml';

/** --config, else $EDGE_AGENT_CONFIG, else ./config.yaml, else the installed system config; null when none exists. */
export function findConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (flag) return path.resolve(flag);
  if (env.EDGE_AGENT_CONFIG) return path.resolve(env.EDGE_AGENT_CONFIG);
  const local = path.resolve('config.yaml');
  if (fs.existsSync(local)) return local;
  if (fs.existsSync(SYSTEM_CONFIG)) return SYSTEM_CONFIG;
  return null;
}

/** Like findConfigPath, for commands that cannot work without a config file. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const file = findConfigPath(flag, env);
  if (file !== null) return file;
  throw new CliError(
    'no config file found — pass --config FILE, set EDGE_AGENT_CONFIG, or copy config/example.yaml to ./config.yaml',
    2,
  );
}
