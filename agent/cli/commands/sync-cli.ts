import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';

export function registerSync(program: Command, { io, exit }: CommandContext): void {
  program
    .command('sync')
    .description('the upstream link and the store-and-forward outbox; --now drains it before answering')
    .addOption(sharedOptions.config())
    .option('--now', 'publish everything pending now; exit 1 if the outbox is not empty within --timeout')
    .option('--timeout <seconds>', 'how long --now may take', '30')
    .addOption(sharedOptions.json())
    .addHelpText('after', '\nExamples:\n  edge-agent sync\n  edge-agent sync --now --timeout 60')
    .action(async (o: ConfigAndJson & { now?: boolean; timeout?: string }) => exit(await (await import('./sync-command')).syncCommand(o, io)));
}
