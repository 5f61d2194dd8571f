import type { Command } from 'commander';
import { usageWhenBare, type CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';
import { CHANNELS } from '../../engagement/types';
import type { PairOptions } from './device-pairing-command';
import type { devicesCommandCommand, devicesScanCommand } from './devices-command';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** `edge-agent devices list|scan|show|pair|unpair|identify|notify`. */
export function registerDevices(program: Command, ctx: CommandContext): void {
  const { io, exit } = ctx;
  const listing = (): Promise<typeof import('./devices-command')> => import('./devices-command');
  const pairing = (): Promise<typeof import('./device-pairing-command')> => import('./device-pairing-command');
  const devices = program.command('devices').description('paired devices and what is plugged in');
  devices
    .command('list')
    .description('configured devices with link state, firmware and frame counters')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.json())
    .action(async (o: ConfigAndJson) => exit(await (await listing()).devicesListCommand(o, io)));
  devices
    .command('scan')
    .description('list serial ports (USB vendor/product, stable by-id path); --probe asks each for its hello; --ble scans for BLE devices')
    .option('--port <path...>', 'also probe these paths (e.g. a PTY)')
    .option('--probe', 'open each port and listen for our protocol')
    .addOption(sharedOptions.protocolBaud('--baud <rate>', 'baud rate for probing'))
    .option('--timeout <seconds>', 'how long to listen on each port', '2')
    .option('--ble', 'scan for BLE devices through BlueZ: address, name, RSSI, whether they expose the edge-agent service')
    .option('--duration <seconds>', 'how long the BLE scan runs (default 5)')
    .option('--adapter <name>', 'BLE adapter, e.g. hci1 (default: the first)')
    .addOption(sharedOptions.json())
    .addHelpText('after', '\nExamples:\n  edge-agent devices scan --probe\n  edge-agent devices scan --ble --duration 10 --json')
    .action(async (o: Parameters<typeof devicesScanCommand>[0]) => exit(await (await listing()).devicesScanCommand(o, io)));
  devices
    .command('show <device>')
    .description('one device: config, firmware and flash record, live link and RSSI, consents, latest data')
    .addOption(sharedOptions.config())
    .option('--last <n>', 'how many of its latest readings and events to show', '5')
    .addOption(sharedOptions.json())
    .addHelpText('after', '\nExample:\n  edge-agent devices show scale-1 --last 20')
    .action(async (id: string, o: ConfigAndJson & { last?: string }) =>
      exit(await (await import('./device-show-command')).devicesShowCommand(id, o, io)),
    );
  devices
    .command('pair')
    .description("pair a device: add it to the config (validated, comments kept), reload the agent, record the household's consents; asks at a terminal for what flags leave out")
    .addOption(sharedOptions.config())
    .option('--transport <t>', 'serial or ble')
    .option('--id <id>', 'device id used in status and consent, e.g. scale-1')
    .option('--port <path>', 'serial port (prefer /dev/serial/by-id/…)')
    .addOption(sharedOptions.protocolBaud())
    .option('--address <mac>', 'BLE address, e.g. 24:6F:28:AA:BB:CC')
    .option('--profile <id>', 'household profile the device belongs to')
    .option('--grant <categories>', 'data categories the household allows it to collect (comma-separated or repeated; health/biometric only by name)', collect)
    .option('--campaign <ids>', 'campaigns the profile takes part in (comma-separated or repeated)', collect)
    .option('--channel <channels>', `channels the profile may be contacted by: ${CHANNELS.join(', ')}`, collect)
    .addOption(sharedOptions.yes('do not ask: fail on anything missing (scripts)'))
    .addOption(sharedOptions.json('machine-readable output (implies --yes)'))
    .addHelpText(
      'after',
      '\nExamples:\n  edge-agent devices pair                      # at a terminal: pick the port, profile and consents\n  edge-agent devices pair --transport serial --port /dev/serial/by-id/usb-…-if00 --id scale-1 \\\n      --profile home-a --grant usage --campaign coffee-reorder --channel push --yes',
    )
    .action(async (o: PairOptions) => exit(await (await pairing()).devicesPairCommand(o, io)));
  devices
    .command('unpair <device>')
    .description('unpair a device: withdraw its consents and erase what it collected (each erasure counted), remove it from the config and registry, reload the agent')
    .addOption(sharedOptions.config())
    .option('--keep-data', 'withdraw consents but keep its stored raw rows')
    .addOption(sharedOptions.yes('do not ask for confirmation'))
    .addOption(sharedOptions.json('machine-readable output (needs --yes)'))
    .addHelpText('after', '\nExample:\n  edge-agent devices unpair scale-1 --yes')
    .action(async (id: string, o: ConfigAndJson & { yes?: boolean; keepData?: boolean }) =>
      exit(await (await pairing()).devicesUnpairCommand(id, o, io)),
    );
  type DeviceCommandOptions = Parameters<typeof devicesCommandCommand>[2];
  devices
    .command('identify <device>')
    .description('make a device blink so a technician can find it; exits 1 unless the device acks')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.ackTimeout())
    .addOption(sharedOptions.json())
    .addHelpText('after', '\nExample:\n  edge-agent devices identify scale-1')
    .action(async (id: string, o: DeviceCommandOptions) => exit(await (await listing()).devicesCommandCommand(id, 'identify', o, io)));
  devices
    .command('notify <device>')
    .description('show a notification on the device (display text, LED colour, buzzer); exits 1 unless acked')
    .addOption(sharedOptions.config())
    .option('--text <text>', 'display text (at most 64 characters)')
    .option('--led <colour>', 'LED colour, e.g. green')
    .option('--buzz', 'sound the buzzer')
    .addOption(sharedOptions.ackTimeout())
    .addOption(sharedOptions.json())
    .addHelpText('after', '\nExample:\n  edge-agent devices notify scale-1 --text "Coffee running low" --led amber')
    .action(async (id: string, o: DeviceCommandOptions) => exit(await (await listing()).devicesCommandCommand(id, 'notify', o, io)));
  usageWhenBare(devices, ctx);
}
