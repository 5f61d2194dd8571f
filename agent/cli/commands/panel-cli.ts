import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';

export function registerPanel(program: Command, { io, exit }: CommandContext): void {
  program
    .command('panel')
    .description('where to open the household privacy panel, and its pairing code')
    .addOption(sharedOptions.config())
    .option('--new-code', 'replace the pairing code (the old one stops working at once)')
    .addOption(sharedOptions.json())
    .addHelpText('after', '\nExamples:\n  edge-agent panel\n  edge-agent panel --new-code   # after a household member leaves\n(see docs/panel.md)')
    .action(async (o: ConfigAndJson & { newCode?: boolean }) => exit(await (await import('./panel-command')).panelCommand(o, io)));
}
