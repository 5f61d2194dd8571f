import type { Command } from 'commander';
import { usageWhenBare, type CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';
import type { FirmwareUpdateOptions } from './firmware-command';

/** loaded only when a firmware command runs: the flasher and its serial port stay out of every other command */
const load = (): Promise<typeof import('./firmware-command')> => import('./firmware-command');

/** `edge-agent firmware status|defer|retry|import|update`. */
export function registerFirmware(program: Command, ctx: CommandContext): void {
  const { io, exit } = ctx;
  const fw = program
    .command('firmware')
    .description("fleet firmware updates: the package assigned upstream and each device's state (docs/firmware-updates.md)");
  const common = (c: Command): Command => c.addOption(sharedOptions.config()).addOption(sharedOptions.json());
  common(fw.command('status').description('the package, its state, and every targeted device')).action(async (o: ConfigAndJson) =>
    exit((await load()).firmwareStatusCommand(o, io)),
  );
  common(
    fw
      .command('defer')
      .description("the household postpones a device's update (24 h by default), or says never")
      .addOption(sharedOptions.device())
      .option('--hours <n>', 'defer for this many hours')
      .option('--never', 'do not update this device (reported upstream as skipped)')
      .option('--clear', 'allow updates again'),
  ).action(async (o: ConfigAndJson & { device: string; hours?: string; never?: boolean; clear?: boolean }) =>
    exit((await load()).firmwareDeferCommand(o, io)),
  );
  common(fw.command('retry').description('put a FAILED device back in the queue').addOption(sharedOptions.device())).action(
    async (o: ConfigAndJson & { device: string }) => exit((await load()).firmwareRetryCommand(o, io)),
  );
  common(
    fw
      .command('import')
      .description('use a package file from the technician (checked as a download is)')
      .requiredOption('--package <file>', 'ESP-IDF app image (.bin)'),
  ).action(async (o: ConfigAndJson & { package: string }) => exit((await load()).firmwareImportCommand(o, io)));
  common(
    fw
      .command('update')
      .description('apply the verified package to one device now (backup, flash, hello, rollback)')
      .addOption(sharedOptions.device())
      .requiredOption('-p, --port <path>', 'its serial port (stop the agent first: it holds the port)')
      .addOption(sharedOptions.transferBaud())
      .addOption(sharedOptions.protocolBaud('--app-baud <rate>', "the firmware's protocol baud, for its hello"))
      .addOption(sharedOptions.helloTimeout()),
  ).action(async (o: FirmwareUpdateOptions) => exit(await (await load()).firmwareUpdateCommand(o, io)));
  usageWhenBare(fw, ctx);
}
