import { Command, CommanderError, Option } from 'commander';
import { CliError } from './cli-error';
import { processOutput, type CliOutput } from './output';
import { indexCommand } from './commands/index-command';
import { configValidateCommand } from './commands/config-command';
import { statusCommand } from './commands/status-command';
import { runCommand } from './commands/run-command';
import { demoCommand } from './commands/demo-command';
import { VERSION } from '../version';
import { syncCommand } from './commands/sync-command';
import { doctorCommand } from './commands/doctor-command';
import { scriptTestCommand } from './commands/script-command';
import { devicesCommandCommand, devicesListCommand, devicesScanCommand } from './commands/devices-command';
import {
  consentChangeCommand,
  consentExportCommand,
  consentShowCommand,
  consentVerifyCommand,
  type ConsentChangeOptions,
} from './commands/consent-command';

function buildProgram(io: CliOutput, setCode: (c: number) => void): Command {
  /** A command group run without a subcommand prints its help and exits 2 (usage). */
  const usageWhenBare = (group: Command): void => {
    group.action(() => {
      group.outputHelp();
      setCode(2);
    });
  };
  const program = new Command();
  program
    .name('edge-agent')
    .description('Consent-first gateway agent for ESP32 devices: offline engagement index, store-and-forward MQTT sync.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();

  program
    .command('run')
    .description('run the agent as a service with a config file')
    .option('-c, --config <file>', 'config file (default: $EDGE_AGENT_CONFIG, ./config.yaml, /etc/edge-agent/config.yaml)')
    .action(async (o: { config?: string }) => setCode(await runCommand(o, io)));

  program
    .command('demo')
    .description('run a simulated household: 4 ESP32 devices, embedded MQTT broker, real SQLite, live view')
    .option('-c, --config <file>', 'demo config (default: config/demo.yaml of this checkout)')
    .option('--data-dir <dir>', 'where the demo database lives (default: ./data/demo)')
    .option('--broker-port <port>', 'port of the embedded MQTT broker', '18830')
    .option('--api <host:port>', 'local API address (default from the demo config)')
    .option('--duration <seconds>', 'stop by itself after this many seconds')
    .option('--speed <factor>', 'multiply the simulated devices\' event rates', '1')
    .option('--no-view', 'print a plain line every few seconds instead of the live view')
    .option('--json', 'print one JSON status line every few seconds (implies --no-view)')
    .action(async (o: Parameters<typeof demoCommand>[0]) => setCode(await demoCommand(o, io)));

  program
    .command('status')
    .description("show the running agent's status (devices, ingest, index, outbox, upstream)")
    .option('-c, --config <file>', 'config file, to find the local API address')
    .option('--url <url>', 'local API base URL (default http://<api.listen> from the config)')
    .option('--json', 'machine-readable output (same document as GET /api/status)')
    .action(async (o: { config?: string; url?: string; json?: boolean }) => setCode(await statusCommand(o, io)));

  program
    .command('index')
    .description('compute the IoT Engagement Index: (S / R) × F × (V / 100)')
    .requiredOption('-r, --recency <days>', 'R: days since the last qualifying event (floored at --floor)')
    .requiredOption('-f, --frequency <count>', 'F: qualifying events in the window')
    .requiredOption('-v, --value <0-100>', 'V: purchase-intent value')
    .option('-s, --scale <S>', 'S: recency scale; 100 as published, 10 reproduces the source article\'s examples', '100')
    .option('--floor <days>', 'recency floor in days', '1')
    .option('--json', 'machine-readable output')
    .action((o: Parameters<typeof indexCommand>[0]) => setCode(indexCommand(o, io)));

  const config = program.command('config').description('work with the config file');
  config
    .command('validate')
    .description('validate a config file against the schema and compile its scripts; one line per problem, path first')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode(await configValidateCommand(o, io)));
  usageWhenBare(config);

  const script = program.command('script').description('user scripts (decoders, V scoring, qualify conditions)');
  script
    .command('test')
    .description('run a script exactly as the agent would (same engine, limits and checks) and show its result')
    .requiredOption('-f, --file <file>', 'the script (a function body or a whole function)')
    .option('-i, --input <json>', 'decoder: payload bytes [1,2], a string or JSON sent as text; rule/condition: msg; score: features')
    .option('-k, --kind <kind>', 'decoder | rule | condition | score (guessed from the script when left out)')
    .option('-m, --metadata <json>', 'metadata object for decoders and rules', undefined)
    .option('--msg-type <type>', 'msgType for rules and conditions', 'EVENT')
    .option('-c, --config <file>', 'take the limits (scripts:) from this config')
    .option('--timeout <duration>', 'time limit per call, e.g. 50ms')
    .option('--memory-mb <mb>', 'memory limit')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  edge-agent script test --file decoder.js --input '{"t": 21.5}'
  edge-agent script test --file decoder.js --input '[102, 8, 97]' --metadata '{"deviceName": "th-1"}'
  edge-agent script test --kind condition --file big-dispense.js --input '{"event": "dispense", "v": 12}'
  edge-agent script test --kind score --file value.js --input '{"f": 4, "r": 1.5}' --json`,
    )
    .action(async (o: Parameters<typeof scriptTestCommand>[0]) => setCode(await scriptTestCommand(o, io)));
  usageWhenBare(script);

  const devices = program.command('devices').description('paired devices and what is plugged in');
  devices
    .command('list')
    .description('configured devices with link state, firmware and frame counters')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode(await devicesListCommand(o, io)));
  devices
    .command('scan')
    .description('list serial ports (USB vendor/product, stable by-id path); --probe asks each for its hello')
    .option('--port <path...>', 'also probe these paths (e.g. a PTY)')
    .option('--probe', 'open each port and listen for our protocol')
    .option('--baud <rate>', 'baud rate for probing', '115200')
    .option('--timeout <seconds>', 'how long to listen on each port', '2')
    .option('--json', 'machine-readable output')
    .action(async (o: Parameters<typeof devicesScanCommand>[0]) => setCode(await devicesScanCommand(o, io)));
  devices
    .command('identify <device>')
    .description('make a device blink so a technician can find it; exits 1 unless the device acks')
    .option('-c, --config <file>', 'config file')
    .option('--timeout <seconds>', 'wait this long for the ack before each retry', '1.5')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  edge-agent devices identify scale-1')
    .action(async (id: string, o: Parameters<typeof devicesCommandCommand>[2]) => setCode(await devicesCommandCommand(id, 'identify', o, io)));
  devices
    .command('notify <device>')
    .description('show a notification on the device (display text, LED colour, buzzer); exits 1 unless acked')
    .option('-c, --config <file>', 'config file')
    .option('--text <text>', 'display text (at most 64 characters)')
    .option('--led <colour>', 'LED colour, e.g. green')
    .option('--buzz', 'sound the buzzer')
    .option('--timeout <seconds>', 'wait this long for the ack before each retry', '1.5')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  edge-agent devices notify scale-1 --text "Coffee running low" --led amber')
    .action(async (id: string, o: Parameters<typeof devicesCommandCommand>[2]) => setCode(await devicesCommandCommand(id, 'notify', o, io)));
  usageWhenBare(devices);

  program
    .command('sync')
    .description('the upstream link and the store-and-forward outbox; --now drains it before answering')
    .option('-c, --config <file>', 'config file')
    .option('--now', 'publish everything pending now; exit 1 if the outbox is not empty within --timeout')
    .option('--timeout <seconds>', 'how long --now may take', '30')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  edge-agent sync\n  edge-agent sync --now --timeout 60')
    .action(async (o: Parameters<typeof syncCommand>[0]) => setCode(await syncCommand(o, io)));

  program
    .command('doctor')
    .description('check everything a working gateway needs, one line each with the fix; exit 1 on any FAIL')
    .option('-c, --config <file>', 'config file (default: $EDGE_AGENT_CONFIG, ./config.yaml, /etc/edge-agent/config.yaml)')
    .option('--json', 'machine-readable report (for remote support)')
    .addHelpText(
      'after',
      '\nChecks: Node version, config (scripts compiled), data directory and free space, SQLite integrity, consent\nledger chain, storage budget, serial ports and permissions, Bluetooth adapter, upstream broker with the\nconfigured credentials and TLS, clock sanity, the systemd unit, the running agent.\n\nExamples:\n  edge-agent doctor\n  edge-agent doctor --config /etc/edge-agent/config.yaml --json',
    )
    .action(async (o: { config?: string; json?: boolean }) => setCode(await doctorCommand(o, io)));

  const consent = program
    .command('consent')
    .description('see and change what the household allowed (default deny; every change is in a hash-chained ledger)');
  const targetOptions = (c: Command): Command =>
    c
      .option('-c, --config <file>', 'config file')
      .option('--device <id>', 'device layer: the device…')
      .option('--category <cat>', '…and the data category (environment|presence|usage|location|health|biometric, or * for all non-special)')
      .option('--profile <id>', 'household profile, with --campaign or --channel')
      .option('--campaign <id>', 'campaign layer: marketing use by this campaign')
      .option('--channel <ch>', 'channel layer: push|sms|email|device')
      .option('--json', 'machine-readable output');
  targetOptions(consent.command('grant').description('grant a consent (recorded in the ledger)')).action(async (o: ConsentChangeOptions) =>
    setCode(await consentChangeCommand(true, o, io)),
  );
  targetOptions(consent.command('revoke').description('withdraw a consent: effective at once, purges queued data in scope'))
    .option('--erase', 'also erase the raw data already stored for that device/category')
    .action(async (o: ConsentChangeOptions) => setCode(await consentChangeCommand(false, o, io)));
  consent
    .command('show')
    .description('the decisions in force')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode(await consentShowCommand(o, io)));
  consent
    .command('verify')
    .description('check the ledger hash chain; names the first edited, removed or reordered entry')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action((o: { config?: string; json?: boolean }) => setCode(consentVerifyCommand(o, io)));
  consent
    .command('export')
    .description('the household-readable record: one consent receipt per ledger entry')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'receipts as JSON (Kantara / ISO/IEC TS 27560 fields)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action((o: { config?: string; json?: boolean; out?: string }) => setCode(consentExportCommand(o, io)));
  usageWhenBare(consent);

  program.addOption(new Option('--no-color', 'disable colours').hideHelp());
  return program;
}

/** Entry point: returns the exit code (0 ok, 1 failure, 2 usage). Never throws. */
export async function main(argv: string[], io: CliOutput = processOutput): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  const debug = argv.includes('--debug');
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
    if (err instanceof CliError) {
      io.err(`edge-agent: ${err.message}`);
      if (debug && err.stack) io.err(err.stack);
      return err.exitCode;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    io.err(`edge-agent: ${e.message}${debug ? '' : ' (run with --debug for details)'}`);
    if (debug && e.stack) io.err(e.stack);
    return 1;
  }
}
