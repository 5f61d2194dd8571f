import { ConfigError, loadConfig } from '../../config';
// not the sandbox's index, which loads QuickJS: `run` imports this module, and a config without scripts never needs it
import { ScriptHost } from '../../sandbox/script-host';
import { configuredScripts, loadConfiguredScripts, scriptLimits } from '../../sandbox/configured-scripts';
import { CliError } from '../cli-error';
import { resolveConfigPath } from '../config-path';
import { jsonFailure, printJson, type CliOutput } from '../output';

/** `edge-agent config validate`: every problem on its own line, path first; exit 2 when invalid. */
export async function configValidateCommand(opts: { config?: string; json?: boolean }, io: CliOutput): Promise<number> {
  const file = resolveConfigPath(opts.config);
  try {
    const { config, warnings } = loadConfig(file);
    // Scripts are compiled exactly as the agent would, so compile errors show here with their line numbers.
    const host = new ScriptHost({ limits: scriptLimits(config) });
    try {
      const issues = await loadConfiguredScripts(host, config);
      if (issues.length > 0) throw new ConfigError(issues);
    } finally {
      host.stop();
    }
    const scripts = configuredScripts(config).length;
    if (opts.json) {
      printJson(io, { ok: true, file, warnings, devices: config.devices.length, campaigns: config.campaigns.length, scripts });
    } else {
      for (const w of warnings) io.err(`warning: ${w}`);
      io.out(
        `${file}: valid (${config.devices.length} devices, ${config.campaigns.length} campaigns${scripts ? `, ${scripts} script${scripts === 1 ? '' : 's'} compiled` : ''}, gateway ${config.gateway.id})`,
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      if (opts.json) {
        printJson(io, jsonFailure(`${file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}`, 2, { file, issues: err.issues }));
      } else {
        for (const i of err.issues) io.err(`${i.path}: ${i.message}`);
      }
      return 2;
    }
    throw err;
  }
}

/** An invalid config as a one-line usage error (exit 2): the first problem, and how many more there are. */
export function configErrorAsCli(err: ConfigError): CliError {
  const first = err.issues[0];
  const more = err.issues.length > 1 ? ` (+${err.issues.length - 1} more: run \`edge-agent config validate\`)` : '';
  return new CliError(first ? `${first.path}: ${first.message}${more}` : err.message, 2);
}

/** Loads a config for commands that need one; invalid config is a one-line usage error (exit 2). */
export function loadConfigOrExit(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ReturnType<typeof loadConfig> & { file: string } {
  const file = resolveConfigPath(flag, env);
  try {
    return { ...loadConfig(file, env), file };
  } catch (err) {
    if (err instanceof ConfigError) throw configErrorAsCli(err);
    throw err;
  }
}
