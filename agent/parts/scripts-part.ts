import { ConfigError } from '../config';
// not the sandbox's index: it would load QuickJS, which a config without scripts never needs
import { ScriptHost } from '../sandbox/script-host';
import { loadConfiguredScripts, scriptLimits } from '../sandbox/configured-scripts';
import type { Part } from '../part';
import type { BaseContext } from './context';

/** User scripts (DESIGN §8). First: a config whose scripts do not compile is refused like any invalid config. */
export class ScriptsPart implements Part<BaseContext, { scripts: ScriptHost }> {
  readonly name = 'scripts';
  private host: ScriptHost | null = null;

  async start({ config, clock, logger, status }: BaseContext): Promise<{ scripts: ScriptHost }> {
    const host = new ScriptHost({
      limits: scriptLimits(config),
      clock,
      onDisabled: (id, error, until) =>
        logger.warn('script disabled after 3 failures in a row', { script: id, kind: error.kind, error: error.detail, until: new Date(until).toISOString() }),
    });
    this.host = host;
    const issues = await loadConfiguredScripts(host, config);
    if (issues.length > 0) throw new ConfigError(issues);
    status.set('scripts', () => host.status());
    status.set('sandbox', () => host.sandbox());
    return { scripts: host };
  }

  async stop(): Promise<void> {
    this.host?.stop();
    this.host = null;
  }
}
