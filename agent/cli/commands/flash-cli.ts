import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import type { FlashCommandOptions } from './flash-command';

export function registerFlash(program: Command, { io, exit, debug }: CommandContext): void {
  program
    .command('flash')
    .description('flash an ESP32 through its ROM bootloader (esptool-js): image checks, MD5 verify, reset, wait for its hello')
    .requiredOption('-p, --port <path>', 'serial port of the board, e.g. /dev/serial/by-id/usb-Silicon_Labs_CP2102…')
    .requiredOption('-i, --image <file>', 'an app image (.bin), or ESP-IDF build/flasher_args.json for bootloader + partition table + app')
    .option('-a, --address <addr>', 'flash offset of a single image (default 0x10000, the factory app)')
    .addOption(sharedOptions.transferBaud())
    .option('--erase', 'erase the whole flash first (wipes NVS: pairing and Wi-Fi settings on the device)')
    .option('--force', 'flash even if the image checks fail (wrong chip, bad checksum or SHA-256, not an ESP image)')
    .option('--profile <id>', 'pair the device to this household profile in the registry')
    .addOption(sharedOptions.config('for the device registry in its data dir'))
    .option('--no-wait', "do not wait for the device's hello after the reset")
    .addOption(sharedOptions.helloTimeout(10))
    .addOption(sharedOptions.protocolBaud('--app-baud <rate>', 'baud rate the firmware talks at, for the hello'))
    .addOption(sharedOptions.json('JSON lines: stage and progress events, then one result'))
    .addHelpText(
      'after',
      `
Examples:
  edge-agent flash --port /dev/ttyUSB0 --image build/scale.bin
  edge-agent flash --port /dev/ttyUSB0 --image build/flasher_args.json --profile home-a --config /etc/edge-agent/config.yaml
(see docs/flashing.md)`,
    )
    .action(async (o: FlashCommandOptions) => exit(await (await import('./flash-command')).flashCommand({ ...o, debug: debug() }, io)));
}
