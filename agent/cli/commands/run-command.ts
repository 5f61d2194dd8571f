import { Agent } from '../../controller';
import { createLogger, type LogLevel } from '../../logger';
import type { CliOutput } from '../output';
import { configErrorAsCli, loadConfigOrExit } from './config-command';
import { ConfigError } from '../../config';

/** Resolves when SIGINT/SIGTERM arrives (or `stopAfterMs` passes); a second signal exits at once. */
export function waitForShutdown(stopAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (timer) clearTimeout(timer);
      // A second Ctrl-C while stopping exits immediately.
      process.once('SIGINT', () => process.exit(130));
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (stopAfterMs !== undefined) timer = setTimeout(() => done('duration elapsed'), stopAfterMs);
  });
}

/** `edge-agent run`: the service. Logs structured JSON unless on a terminal. */
export async function runCommand(opts: { config?: string }, io: CliOutput): Promise<number> {
  const { config, warnings, file } = loadConfigOrExit(opts.config);
  const logger = createLogger({
    level: (process.env.EDGE_AGENT_LOG_LEVEL as LogLevel | undefined) ?? config.log.level,
    format: process.stderr.isTTY ? 'pretty' : 'json',
  });
  for (const w of warnings) logger.warn(w);
  const agent = new Agent(config, { logger });
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    throw err instanceof ConfigError ? configErrorAsCli(err) : err;
  }
  logger.info('ready', { config: file, api: agent.apiAddress });
  const why = await waitForShutdown();
  logger.info('stopping', { reason: why });
  await agent.stop();
  io.err('edge-agent stopped');
  return 0;
}
