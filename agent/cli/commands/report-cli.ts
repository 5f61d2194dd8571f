import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import type { ReportOptions } from './report-command';

export function registerReport(program: Command, { io, exit }: CommandContext): void {
  program
    .command('report')
    .description('campaign outcomes: trigger-to-conversion rate, reorder cycle, dwell after a trigger, opt-out by device type, delivery')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.url())
    .option('--campaign <id>', 'only this campaign')
    .option('--since <when>', 'only what happened since a duration ago (7d, 12h) or a date (2026-03-01); read from the database')
    .option('--chart <file.svg>', 'also write an SVG chart of the index over time per profile (from the database)')
    .addOption(sharedOptions.json("the status document's outcomes key, plus source"))
    .addHelpText('after', '\nExamples:\n  edge-agent report\n  edge-agent report --campaign coffee-reorder --since 30d --json\n  edge-agent report --campaign coffee-reorder --chart index.svg\n(see docs/outcomes.md)')
    .action(async (o: ReportOptions) => exit(await (await import('./report-command')).reportCommand(o, io)));
}
