import { AgentRunner } from '../../agent-runner';
import { RotatingLogFile, logFileOf } from '../../logging/rotating-log-file';
import { createLogger, type LogLevel } from '../../logger';
import type { CliOutput } from '../output';
import { configErrorAsCli, loadConfigOrExit } from './config-command';
import { ConfigError } from '../../config';
import { createServiceNotifier } from '../../service/systemd-notifier';
import { installLastResort } from '../../service/last-resort';

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
  const logPath = logFileOf(config);
  const logFile = logPath ? new RotatingLogFile(logPath, config.log.maxFileBytes) : null;
  const logger = createLogger({
    level: (process.env.EDGE_AGENT_LOG_LEVEL as LogLevel | undefined) ?? config.log.level,
    format: process.stderr.isTTY ? 'pretty' : 'json',
    ...(logFile ? { jsonSink: (line: string) => logFile.write(line) } : {}),
  });
  for (const w of warnings) logger.warn(w);
  // One bad input must never stop the service; what may go on and what must restart: agent/service/last-resort.ts
  const uninstallLastResort = installLastResort({ logger });
  // Under systemd (Type=notify, WatchdogSec): READY=1, STATUS=, watchdog pings, STOPPING=1. A no-op elsewhere.
  const systemd = createServiceNotifier({ logger });
  systemd.status('starting');
  const runner = new AgentRunner(file, logger);
  let agent;
  try {
    agent = await runner.start(config);
  } catch (err) {
    systemd.status(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
    await systemd.close();
    throw err instanceof ConfigError ? configErrorAsCli(err) : err;
  }
  logger.info('ready', { config: file, api: agent.apiAddress });
  systemd.ready(
    `running: gateway ${config.gateway.id}, ${config.devices.length} devices, api ${agent.apiAddress ?? 'off'}`,
  );
  // SIGHUP re-reads the config, as POST /api/reload does (`edge-agent devices pair` uses the latter).
  const onHup = (): void => {
    const r = runner.requestReload();
    if (!r.ok) logger.error('reload refused', { error: r.error });
  };
  process.on('SIGHUP', onHup);
  const why = await waitForShutdown();
  process.off('SIGHUP', onHup);
  logger.info('stopping', { reason: why });
  systemd.stopping(`stopping (${why})`);
  await runner.stop();
  await systemd.close();
  uninstallLastResort();
  io.err('edge-agent stopped');
  return 0;
}
