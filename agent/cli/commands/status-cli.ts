import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';

export function registerStatus(program: Command, { io, exit }: CommandContext): void {
  program
    .command('status')
    .description("show the running agent's status (devices, ingest, index, outbox, upstream)")
    .addOption(sharedOptions.config('to find the local API address'))
    .addOption(sharedOptions.url())
    .addOption(sharedOptions.json('the document GET /api/status returns'))
    .action(async (o: ConfigAndJson & { url?: string }) => exit(await (await import('./status-command')).statusCommand(o, io)));
}
