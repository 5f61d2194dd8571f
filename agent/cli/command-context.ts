import type { Command } from 'commander';
import type { CliOutput } from './output';

/** What a command's registration needs from the program: where to print and how to set the exit code. */
export interface CommandContext {
  io: CliOutput;
  exit(code: number): void;
  /** whether --debug was given (read when the command runs) */
  debug(): boolean;
}

/**
 * Each command module's registration: adds its command(s) and options to the program. Registrations load the
 * command's implementation only when it runs (`edge-agent run` must not pay for node-ble or the flasher).
 */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

/** A command group run without a subcommand prints its help and exits 2 (usage). */
export function usageWhenBare(group: Command, ctx: CommandContext): void {
  group.action(() => {
    group.outputHelp();
    ctx.exit(2);
  });
}
