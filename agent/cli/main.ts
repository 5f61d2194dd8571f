import { Command, CommanderError, Option } from 'commander';
import { CliError } from './cli-error';
import type { CommandContext, RegisterCommand } from './command-context';
import { addExamples } from './examples';
import { jsonFailure, printJson, processOutput, type CliOutput } from './output';
import { VERSION } from '../version';
import { registerRun } from './commands/run-cli';
import { registerDemo } from './commands/demo-cli';
import { registerStatus } from './commands/status-cli';
import { registerIndex } from './commands/index-cli';
import { registerConfig } from './commands/config-cli';
import { registerScript } from './commands/script-cli';
import { registerDevices } from './commands/devices-cli';
import { registerFlash } from './commands/flash-cli';
import { registerSync } from './commands/sync-cli';
import { registerReport } from './commands/report-cli';
import { registerPanel } from './commands/panel-cli';
import { registerLogs } from './commands/logs-cli';
import { registerCompletion } from './commands/completion-cli';
import { registerDoctor } from './commands/doctor-cli';
import { registerConsent } from './commands/consent-cli';
import { registerFirmware } from './commands/firmware-cli';

/** Every command, in the order `--help` lists them; each module registers its own options (from command-options). */
const COMMANDS: readonly RegisterCommand[] = [
  registerRun,
  registerDemo,
  registerStatus,
  registerIndex,
  registerConfig,
  registerScript,
  registerDevices,
  registerFlash,
  registerSync,
  registerReport,
  registerPanel,
  registerLogs,
  registerCompletion,
  registerDoctor,
  registerConsent,
  registerFirmware,
];

/** The whole command tree (main parses with it; tests walk it). */
export function buildProgram(io: CliOutput, json: boolean, setCode: (c: number) => void): Command {
  const program = new Command();
  program
    .name('edge-agent')
    .description('Consent-first gateway agent for ESP32 devices: offline engagement index, store-and-forward MQTT sync.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // A usage error under --json is a JSON failure like any other (the help hint still goes to stderr).
      outputError: (s, write) => (json ? printJson(io, jsonFailure(s.trim().replace(/^error: /, ''), 2)) : write(s)),
    })
    .exitOverride();
  const ctx: CommandContext = { io, exit: setCode, debug: () => program.opts().debug === true };
  for (const register of COMMANDS) register(program, ctx);
  program.addOption(new Option('--no-color', 'disable colours').hideHelp());
  addExamples(program);
  return program;
}

/**
 * Entry point: returns the exit code (0 ok, 1 failure, 2 usage). Never throws. Errors are one line on stderr, or
 * under --json one JSON failure on stdout (docs/cli.md).
 */
export async function main(argv: string[], io: CliOutput = processOutput): Promise<number> {
  let code = 0;
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const program = buildProgram(io, json, (c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2; // commander already printed the one-line usage error
    }
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const e = err instanceof Error ? err : new Error(String(err));
    if (json) printJson(io, jsonFailure(e.message, exitCode, err instanceof CliError ? err.detail : {}));
    else if (err instanceof CliError) io.err(`edge-agent: ${e.message}`);
    else io.err(`edge-agent: ${e.message}${debug ? '' : ' (run with --debug for details)'}`);
    if (debug && e.stack) io.err(e.stack);
    return exitCode;
  }
}
