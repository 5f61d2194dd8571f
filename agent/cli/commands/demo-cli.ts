import { Option, type Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import type { DemoOptions } from './demo-command';

export function registerDemo(program: Command, { io, exit }: CommandContext): void {
  program
    .command('demo')
    .description('run a simulated household: 4 ESP32 devices, embedded MQTT broker, real SQLite, live view')
    .addOption(new Option('-c, --config <file>', 'demo config (default: config/demo.yaml of this checkout)'))
    .option('--data-dir <dir>', 'where the demo database lives (default: ./data/demo)')
    .option('--broker-port <port>', 'port of the embedded MQTT broker', '18830')
    .option('--api <host:port>', 'local API address (default from the demo config)')
    .option('--duration <seconds>', 'stop by itself after this many seconds')
    .option('--speed <factor>', "multiply the simulated devices' event rates", '1')
    .option('--no-view', 'print a plain line every few seconds instead of the live view')
    .addOption(sharedOptions.json('one JSON status line every few seconds (implies --no-view)'))
    .action(async (o: DemoOptions) => exit(await (await import('./demo-command')).demoCommand(o, io)));
}
