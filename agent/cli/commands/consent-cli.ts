import type { Command } from 'commander';
import { usageWhenBare, type CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';
import type { ConsentChangeOptions } from './consent-command';
import { CATEGORIES } from '../../../firmware-bridge/protocol/frames';
import { CHANNELS } from '../../engagement/types';

/** `edge-agent consent show|grant|revoke|verify|export`. */
export function registerConsent(program: Command, ctx: CommandContext): void {
  const { io, exit } = ctx;
  const load = (): Promise<typeof import('./consent-command')> => import('./consent-command');
  const consent = program
    .command('consent')
    .description('see and change what the household allowed (default deny; every change is in a hash-chained ledger)');
  const targetOptions = (c: Command): Command =>
    c
      .addOption(sharedOptions.config())
      .option('--device <id>', 'device layer: the device…')
      .option('--category <cat>', `…and the data category (${CATEGORIES.join('|')}, or * for all non-special)`)
      .option('--profile <id>', 'household profile, with --campaign or --channel')
      .option('--campaign <id>', 'campaign layer: marketing use by this campaign')
      .option('--channel <ch>', `channel layer: ${CHANNELS.join('|')}`)
      .addOption(sharedOptions.json());
  targetOptions(consent.command('grant').description('grant a consent (recorded in the ledger)')).action(async (o: ConsentChangeOptions) =>
    exit(await (await load()).consentChangeCommand(true, o, io)),
  );
  targetOptions(consent.command('revoke').description('withdraw a consent: effective at once, purges queued data in scope'))
    .option('--erase', 'also erase the raw data already stored for that device/category')
    .action(async (o: ConsentChangeOptions) => exit(await (await load()).consentChangeCommand(false, o, io)));
  consent
    .command('show')
    .description('the decisions in force')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.json())
    .action(async (o: ConfigAndJson) => exit(await (await load()).consentShowCommand(o, io)));
  consent
    .command('verify')
    .description('check the ledger hash chain; names the first edited, removed or reordered entry')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.json())
    .action(async (o: ConfigAndJson) => exit((await load()).consentVerifyCommand(o, io)));
  consent
    .command('export')
    .description('the household-readable record: one consent receipt per ledger entry')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.json('receipts as JSON (Kantara / ISO/IEC TS 27560 fields)'))
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (o: ConfigAndJson & { out?: string }) => exit((await load()).consentExportCommand(o, io)));
  usageWhenBare(consent, ctx);
}
