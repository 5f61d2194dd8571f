import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { sharedOptions, type ConfigAndJson } from '../command-options';

export function registerDoctor(program: Command, { io, exit }: CommandContext): void {
  program
    .command('doctor')
    .description('check everything a working gateway needs, one line each with the fix; exit 1 on any FAIL')
    .addOption(sharedOptions.config())
    .addOption(sharedOptions.json('machine-readable report (for remote support)'))
    .addHelpText(
      'after',
      '\nChecks: Node version, config (scripts compiled), data directory and free space, SQLite integrity, consent\nledger chain, storage budget, serial ports and permissions, Bluetooth adapter, upstream broker with the\nconfigured credentials and TLS, clock sanity, the systemd unit, the running agent.\n\nExamples:\n  edge-agent doctor\n  edge-agent doctor --config /etc/edge-agent/config.yaml --json',
    )
    .action(async (o: ConfigAndJson) => exit(await (await import('./doctor-command')).doctorCommand(o, io)));
}
