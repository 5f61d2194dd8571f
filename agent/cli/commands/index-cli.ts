import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import { DEFAULT_RECENCY_FLOOR_DAYS, PUBLISHED_SCALE } from '../../engagement/index-formula';
import type { IndexOptions } from './index-command';

export function registerIndex(program: Command, { io, exit }: CommandContext): void {
  program
    .command('index')
    .description('compute the IoT Engagement Index: (S / R) × F × (V / 100)')
    .requiredOption('-r, --recency <days>', 'R: days since the last qualifying event (floored at --floor)')
    .requiredOption('-f, --frequency <count>', 'F: qualifying events in the window')
    .requiredOption('-v, --value <0-100>', 'V: purchase-intent value')
    .option('-s, --scale <S>', `S: recency scale; ${PUBLISHED_SCALE} as published, 10 reproduces the source article's examples`, String(PUBLISHED_SCALE))
    .option('--floor <days>', 'recency floor in days', String(DEFAULT_RECENCY_FLOOR_DAYS))
    .addOption(sharedOptions.json())
    .action(async (o: IndexOptions) => exit((await import('./index-command')).indexCommand(o, io)));
}
