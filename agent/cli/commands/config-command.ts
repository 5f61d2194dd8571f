import { ConfigError, loadConfig } from '../../config';
import { CliError } from '../cli-error';
import { resolveConfigPath } from '../config-path';
import type { CliOutput } from '../output';

/** `edge-agent config validate`: every problem on its own line, path first; exit 2 when invalid. */
export function configValidateCommand(opts: { config?: string; json?: boolean }, io: CliOutput): number {
  const file = resolveConfigPath(opts.config);
  try {
    const { config, warnings } = loadConfig(file);
    if (opts.json) {
      io.out(JSON.stringify({ ok: true, file, warnings, devices: config.devices.length, campaigns: config.campaigns.length }));
    } else {
      for (const w of warnings) io.err(`warning: ${w}`);
      io.out(`${file}: valid (${config.devices.length} devices, ${config.campaigns.length} campaigns, gateway ${config.gateway.id})`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      if (opts.json) {
        io.out(JSON.stringify({ ok: false, file, issues: err.issues }));
      } else {
        for (const i of err.issues) io.err(`${i.path}: ${i.message}`);
      }
      return 2;
    }
    throw err;
  }
}

/** Loads a config for commands that need one; invalid config is a one-line usage error (exit 2). */
export function loadConfigOrExit(flag: string | undefined): ReturnType<typeof loadConfig> & { file: string } {
  const file = resolveConfigPath(flag);
  try {
    return { ...loadConfig(file), file };
  } catch (err) {
    if (err instanceof ConfigError) {
      const first = err.issues[0];
      const more = err.issues.length > 1 ? ` (+${err.issues.length - 1} more: run \`edge-agent config validate\`)` : '';
      throw new CliError(first ? `${first.path}: ${first.message}${more}` : err.message, 2);
    }
    throw err;
  }
}
