import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import { runCommand } from './run-command';

/** `edge-agent run`: the service itself, so its implementation is loaded up front. */
export function registerRun(program: Command, { io, exit }: CommandContext): void {
  program
    .command('run')
    .description('run the agent as a service with a config file')
    .addOption(sharedOptions.config())
    .action(async (o: { config?: string }) => exit(await runCommand(o, io)));
}
