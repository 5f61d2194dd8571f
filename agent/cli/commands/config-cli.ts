import type { Command } from 'commander';
import { usageWhenBare, type CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';

export function registerConfig(program: Command, ctx: CommandContext): void {
  const config = program.command('config').description('work with the config file');
  config
    .command('validate')
    .description('validate a config file against the schema and compile its scripts; one line per problem, path first')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.json())
    .action(async (o: ConfigAndJson) => ctx.exit(await (await import('./config-command')).configValidateCommand(o, ctx.io)));
  usageWhenBare(config, ctx);
}
