import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import type { LogsOptions } from './logs-command';

export function registerLogs(program: Command, { io, exit }: CommandContext): void {
  program
    .command('logs')
    .description("the agent's structured log with filters: from journald when it runs as the service, else from its log file")
    .addOption(sharedOptions.config('to find <dataDir>/agent.log'))
    .option('--file <path>', 'read this log file instead')
    .option('-f, --follow', 'keep printing new lines (Ctrl-C to stop)')
    .option('-n, --lines <n>', 'how many matching lines to show first', '50')
    .option('--level <level>', 'this level and above: debug, info, warn, error')
    .option('--device <id>', 'only lines about this device')
    .option('--grep <text>', 'only lines containing this text (case-insensitive)')
    .option('--since <when>', 'only lines since a duration ago (10m, 2h, 1d) or a date')
    .addOption(sharedOptions.json('JSON lines, one record each'))
    .addHelpText('after', '\nExamples:\n  edge-agent logs --level warn --since 1h\n  edge-agent logs -f --device scale-1')
    .action(async (o: LogsOptions) => exit(await (await import('./logs-command')).logsCommand(o, io)));
}
