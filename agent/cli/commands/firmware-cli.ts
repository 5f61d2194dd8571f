import type { Command } from 'commander';
import type { CliOutput } from '../output';
import type { FirmwareUpdateOptions } from './firmware-command';

type CommonOptions = { config?: string; json?: boolean };
/** loaded only when a firmware command runs: the flasher and its serial port stay out of every other command */
const load = (): Promise<typeof import('./firmware-command')> => import('./firmware-command');

/** Registers `edge-agent firmware …` (kept here so the CLI's main file gets one line). */
export function registerFirmwareCommands(
  program: Command,
  io: CliOutput,
  setCode: (c: number) => void,
): void {
  const fw = program
    .command('firmware')
    .description(
      "fleet firmware updates: the package assigned upstream and each device's state (docs/firmware-updates.md)",
    );
  const common = (c: Command): Command =>
    c.option('-c, --config <file>', 'config file').option('--json', 'machine-readable output');
  common(fw.command('status').description('the package, its state, and every targeted device')).action(
    async (o: CommonOptions) => setCode((await load()).firmwareStatusCommand(o, io)),
  );
  common(
    fw
      .command('defer')
      .description("the household postpones a device's update (24 h by default), or says never")
      .requiredOption('-d, --device <id>', 'device id')
      .option('--hours <n>', 'defer for this many hours')
      .option('--never', 'do not update this device (reported upstream as skipped)')
      .option('--clear', 'allow updates again'),
  ).action(async (o: CommonOptions & { device: string; hours?: string; never?: boolean; clear?: boolean }) =>
    setCode((await load()).firmwareDeferCommand(o, io)),
  );
  common(
    fw
      .command('retry')
      .description('put a FAILED device back in the queue')
      .requiredOption('-d, --device <id>', 'device id'),
  ).action(async (o: CommonOptions & { device: string }) =>
    setCode((await load()).firmwareRetryCommand(o, io)),
  );
  common(
    fw
      .command('import')
      .description('use a package file from the technician (checked as a download is)')
      .requiredOption('--package <file>', 'ESP-IDF app image (.bin)'),
  ).action(async (o: CommonOptions & { package: string }) =>
    setCode((await load()).firmwareImportCommand(o, io)),
  );
  common(
    fw
      .command('update')
      .description('apply the verified package to one device now (backup, flash, hello, rollback)')
      .requiredOption('-d, --device <id>', 'device id')
      .requiredOption('-p, --port <path>', 'its serial port (stop the agent first: it holds the port)')
      .option('-b, --baud <rate>', 'transfer baud once the flasher stub runs', '460800')
      .option('--app-baud <rate>', "the firmware's protocol baud, for its hello", '115200')
      .option('--hello-timeout <seconds>', 'how long the new firmware has to say hello', '20'),
  ).action(async (o: FirmwareUpdateOptions) => setCode(await (await load()).firmwareUpdateCommand(o, io)));
  fw.action(() => {
    fw.outputHelp();
    setCode(2);
  });
}
