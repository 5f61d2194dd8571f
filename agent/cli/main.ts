import { Command, CommanderError, Option } from 'commander';
import { CliError } from './cli-error';
import { processOutput, type CliOutput } from './output';
import { runCommand } from './commands/run-command';
import { VERSION } from '../version';
import type { ReportOptions } from './commands/report-command';
import type { LogsOptions } from './commands/logs-command';
import { addExamples } from './examples';
import { registerFirmwareCommands } from './commands/firmware-cli';
import type { PairOptions } from './commands/device-pairing-command';
import type { FlashCommandOptions } from './commands/flash-command';
import type { ConsentChangeOptions } from './commands/consent-command';
import type { indexCommand } from './commands/index-command';
import type { demoCommand } from './commands/demo-command';
import type { syncCommand } from './commands/sync-command';
import type { scriptTestCommand } from './commands/script-command';
import type { devicesCommandCommand, devicesScanCommand } from './commands/devices-command';
import { DEFAULT_BAUD } from '../../drivers/serial/baud';

/**
 * Command modules load when their command runs: `edge-agent run` (the service) must not pay for node-ble,
 * the flasher or the report in RSS and start-up time.
 */
const load = {
  index: () => import('./commands/index-command'),
  config: () => import('./commands/config-command'),
  status: () => import('./commands/status-command'),
  demo: () => import('./commands/demo-command'),
  sync: () => import('./commands/sync-command'),
  report: () => import('./commands/report-command'),
  doctor: () => import('./commands/doctor-command'),
  panel: () => import('./commands/panel-command'),
  logs: () => import('./commands/logs-command'),
  completion: () => import('./commands/completion-command'),
  devicePairing: () => import('./commands/device-pairing-command'),
  deviceShow: () => import('./commands/device-show-command'),
  script: () => import('./commands/script-command'),
  devices: () => import('./commands/devices-command'),
  flash: () => import('./commands/flash-command'),
  consent: () => import('./commands/consent-command'),
};

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
    .action(async (o: Parameters<typeof demoCommand>[0]) => setCode(await (await load.demo()).demoCommand(o, io)));

  program
    .command('status')
    .description("show the running agent's status (devices, ingest, index, outbox, upstream)")
    .option('-c, --config <file>', 'config file, to find the local API address')
    .option('--url <url>', 'local API base URL (default http://<api.listen> from the config)')
    .option('--json', 'machine-readable output (same document as GET /api/status)')
    .action(async (o: { config?: string; url?: string; json?: boolean }) => setCode(await (await load.status()).statusCommand(o, io)));

  program
    .command('index')
    .description('compute the IoT Engagement Index: (S / R) × F × (V / 100)')
    .requiredOption('-r, --recency <days>', 'R: days since the last qualifying event (floored at --floor)')
    .requiredOption('-f, --frequency <count>', 'F: qualifying events in the window')
    .requiredOption('-v, --value <0-100>', 'V: purchase-intent value')
    .option('-s, --scale <S>', 'S: recency scale; 100 as published, 10 reproduces the source article\'s examples', '100')
    .option('--floor <days>', 'recency floor in days', '1')
    .option('--json', 'machine-readable output')
    .action(async (o: Parameters<typeof indexCommand>[0]) => setCode((await load.index()).indexCommand(o, io)));

  const config = program.command('config').description('work with the config file');
  config
    .command('validate')
    .description('validate a config file against the schema and compile its scripts; one line per problem, path first')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode(await (await load.config()).configValidateCommand(o, io)));
  usageWhenBare(config);

  const script = program.command('script').description('user scripts (decoders, V scoring, qualify conditions)');
  script
    .command('test')
    .description('run a script exactly as the agent would (same engine, limits and checks) and show its result')
    .requiredOption('-f, --file <file>', 'the script (a function body or a whole function)')
    .option('-i, --input <json>', 'decoder: payload bytes [1,2], a string or JSON sent as text; rule/condition: msg; score: features')
    .option('-k, --kind <kind>', 'decoder | rule | condition | score | transform | switch | generator (guessed from the script when left out)')
    .option('-m, --metadata <json>', 'metadata object for decoders and rules', undefined)
    .option('--msg-type <type>', 'msgType for rules and conditions (default EVENT; generators: prevMsgType, default "")')
    .option('--count <n>', 'generator: messages to generate, each from the one before')
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
    .action(async (o: Parameters<typeof scriptTestCommand>[0]) => setCode(await (await load.script()).scriptTestCommand(o, io)));
  usageWhenBare(script);

  const devices = program.command('devices').description('paired devices and what is plugged in');
  devices
    .command('list')
    .description('configured devices with link state, firmware and frame counters')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode(await (await load.devices()).devicesListCommand(o, io)));
  devices
    .command('scan')
    .description('list serial ports (USB vendor/product, stable by-id path); --probe asks each for its hello; --ble scans for BLE devices')
    .option('--port <path...>', 'also probe these paths (e.g. a PTY)')
    .option('--probe', 'open each port and listen for our protocol')
    .option('--baud <rate>', 'baud rate for probing', String(DEFAULT_BAUD))
    .option('--timeout <seconds>', 'how long to listen on each port', '2')
    .option('--ble', 'scan for BLE devices through BlueZ: address, name, RSSI, whether they expose the edge-agent service')
    .option('--duration <seconds>', 'how long the BLE scan runs (default 5)')
    .option('--adapter <name>', 'BLE adapter, e.g. hci1 (default: the first)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  edge-agent devices scan --probe\n  edge-agent devices scan --ble --duration 10 --json')
    .action(async (o: Parameters<typeof devicesScanCommand>[0]) => setCode(await (await load.devices()).devicesScanCommand(o, io)));
  devices
    .command('show <device>')
    .description('one device: config, firmware and flash record, live link and RSSI, consents, latest data')
    .option('-c, --config <file>', 'config file')
    .option('--last <n>', 'how many of its latest readings and events to show', '5')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  edge-agent devices show scale-1 --last 20')
    .action(async (id: string, o: { config?: string; json?: boolean; last?: string }) => setCode(await (await load.deviceShow()).devicesShowCommand(id, o, io)));
  const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
  devices
    .command('pair')
    .description('pair a device: add it to the config (validated, comments kept), reload the agent, record the household\'s consents; asks at a terminal for what flags leave out')
    .option('-c, --config <file>', 'config file')
    .option('--transport <t>', 'serial or ble')
    .option('--id <id>', 'device id used in status and consent, e.g. scale-1')
    .option('--port <path>', 'serial port (prefer /dev/serial/by-id/…)')
    .option('--baud <rate>', 'serial baud rate', String(DEFAULT_BAUD))
    .option('--address <mac>', 'BLE address, e.g. 24:6F:28:AA:BB:CC')
    .option('--profile <id>', 'household profile the device belongs to')
    .option('--grant <categories>', 'data categories the household allows it to collect (comma-separated or repeated; health/biometric only by name)', collect)
    .option('--campaign <ids>', 'campaigns the profile takes part in (comma-separated or repeated)', collect)
    .option('--channel <channels>', 'channels the profile may be contacted by: push, sms, email, device', collect)
    .option('-y, --yes', 'do not ask: fail on anything missing (scripts)')
    .option('--json', 'machine-readable output (implies --yes)')
    .addHelpText(
      'after',
      '\nExamples:\n  edge-agent devices pair                      # at a terminal: pick the port, profile and consents\n  edge-agent devices pair --transport serial --port /dev/serial/by-id/usb-…-if00 --id scale-1 \\\n      --profile home-a --grant usage --campaign coffee-reorder --channel push --yes',
    )
    .action(async (o: PairOptions) => setCode(await (await load.devicePairing()).devicesPairCommand(o, io)));
  devices
    .command('unpair <device>')
    .description('unpair a device: withdraw its consents and erase what it collected (each erasure counted), remove it from the config and registry, reload the agent')
    .option('-c, --config <file>', 'config file')
    .option('--keep-data', 'withdraw consents but keep its stored raw rows')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'machine-readable output (needs --yes)')
    .addHelpText('after', '\nExample:\n  edge-agent devices unpair scale-1 --yes')
    .action(async (id: string, o: { config?: string; yes?: boolean; keepData?: boolean; json?: boolean }) => setCode(await (await load.devicePairing()).devicesUnpairCommand(id, o, io)));
  devices
    .command('identify <device>')
    .description('make a device blink so a technician can find it; exits 1 unless the device acks')
    .option('-c, --config <file>', 'config file')
    .option('--timeout <seconds>', 'wait this long for the ack before each retry', '1.5')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  edge-agent devices identify scale-1')
    .action(async (id: string, o: Parameters<typeof devicesCommandCommand>[2]) => setCode(await (await load.devices()).devicesCommandCommand(id, 'identify', o, io)));
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
    .action(async (id: string, o: Parameters<typeof devicesCommandCommand>[2]) => setCode(await (await load.devices()).devicesCommandCommand(id, 'notify', o, io)));
  usageWhenBare(devices);

  program
    .command('flash')
    .description('flash an ESP32 through its ROM bootloader (esptool-js): image checks, MD5 verify, reset, wait for its hello')
    .requiredOption('-p, --port <path>', 'serial port of the board, e.g. /dev/serial/by-id/usb-Silicon_Labs_CP2102…')
    .requiredOption('-i, --image <file>', 'an app image (.bin), or ESP-IDF build/flasher_args.json for bootloader + partition table + app')
    .option('-a, --address <addr>', 'flash offset of a single image (default 0x10000, the factory app)')
    .option('-b, --baud <rate>', 'baud rate for the transfer once the flasher stub runs', '460800')
    .option('--erase', 'erase the whole flash first (wipes NVS: pairing and Wi-Fi settings on the device)')
    .option('--force', 'flash even if the image checks fail (wrong chip, bad checksum or SHA-256, not an ESP image)')
    .option('--profile <id>', 'pair the device to this household profile in the registry')
    .option('-c, --config <file>', 'config file, for the device registry in its data dir')
    .option('--no-wait', 'do not wait for the device\'s hello after the reset')
    .option('--hello-timeout <seconds>', 'how long to wait for the hello', '10')
    .option('--app-baud <rate>', 'baud rate the firmware talks at, for the hello', String(DEFAULT_BAUD))
    .option('--json', 'JSON lines: stage and progress events, then one result')
    .addHelpText(
      'after',
      `
Examples:
  edge-agent flash --port /dev/ttyUSB0 --image build/scale.bin
  edge-agent flash --port /dev/ttyUSB0 --image build/flasher_args.json --profile home-a --config /etc/edge-agent/config.yaml
(see docs/flashing.md)`,
    )
    .action(async (o: FlashCommandOptions) => setCode(await (await load.flash()).flashCommand({ ...o, debug: program.opts().debug === true }, io)));

  program
    .command('sync')
    .description('the upstream link and the store-and-forward outbox; --now drains it before answering')
    .option('-c, --config <file>', 'config file')
    .option('--now', 'publish everything pending now; exit 1 if the outbox is not empty within --timeout')
    .option('--timeout <seconds>', 'how long --now may take', '30')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  edge-agent sync\n  edge-agent sync --now --timeout 60')
    .action(async (o: Parameters<typeof syncCommand>[0]) => setCode(await (await load.sync()).syncCommand(o, io)));

  program
    .command('report')
    .description('campaign outcomes: trigger-to-conversion rate, reorder cycle, dwell after a trigger, opt-out by device type, delivery')
    .option('-c, --config <file>', 'config file')
    .option('--url <url>', 'local API base URL (default http://<api.listen> from the config)')
    .option('--campaign <id>', 'only this campaign')
    .option('--since <when>', 'only what happened since a duration ago (7d, 12h) or a date (2026-03-01); read from the database')
    .option('--chart <file.svg>', 'also write an SVG chart of the index over time per profile (from the database)')
    .option('--json', 'machine-readable output (the status document\'s outcomes key, plus source)')
    .addHelpText('after', '\nExamples:\n  edge-agent report\n  edge-agent report --campaign coffee-reorder --since 30d --json\n  edge-agent report --campaign coffee-reorder --chart index.svg\n(see docs/outcomes.md)')
    .action(async (o: ReportOptions) => setCode(await (await load.report()).reportCommand(o, io)));

  program
    .command('panel')
    .description('where to open the household privacy panel, and its pairing code')
    .option('-c, --config <file>', 'config file (default: $EDGE_AGENT_CONFIG, ./config.yaml, /etc/edge-agent/config.yaml)')
    .option('--new-code', 'replace the pairing code (the old one stops working at once)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  edge-agent panel\n  edge-agent panel --new-code   # after a household member leaves\n(see docs/panel.md)')
    .action(async (o: { config?: string; newCode?: boolean; json?: boolean }) => setCode(await (await load.panel()).panelCommand(o, io)));

  program
    .command('logs')
    .description("the agent's structured log with filters: from journald when it runs as the service, else from its log file")
    .option('-c, --config <file>', 'config file (finds <dataDir>/agent.log)')
    .option('--file <path>', 'read this log file instead')
    .option('-f, --follow', 'keep printing new lines (Ctrl-C to stop)')
    .option('-n, --lines <n>', 'how many matching lines to show first', '50')
    .option('--level <level>', 'this level and above: debug, info, warn, error')
    .option('--device <id>', 'only lines about this device')
    .option('--grep <text>', 'only lines containing this text (case-insensitive)')
    .option('--since <when>', 'only lines since a duration ago (10m, 2h, 1d) or a date')
    .option('--json', 'JSON lines, one record each')
    .addHelpText('after', '\nExamples:\n  edge-agent logs --level warn --since 1h\n  edge-agent logs -f --device scale-1')
    .action(async (o: LogsOptions) => setCode(await (await load.logs()).logsCommand(o, io)));

  program
    .command('completion [shell]')
    .description('print a shell completion script (bash, or zsh through bashcompinit)')
    .addHelpText('after', '\nExamples:\n  edge-agent completion bash | sudo tee /etc/bash_completion.d/edge-agent\n  source <(edge-agent completion zsh)')
    .action(async (shell: string | undefined) => setCode((await load.completion()).completionCommand(shell, program, io)));

  program
    .command('doctor')
    .description('check everything a working gateway needs, one line each with the fix; exit 1 on any FAIL')
    .option('-c, --config <file>', 'config file (default: $EDGE_AGENT_CONFIG, ./config.yaml, /etc/edge-agent/config.yaml)')
    .option('--json', 'machine-readable report (for remote support)')
    .addHelpText(
      'after',
      '\nChecks: Node version, config (scripts compiled), data directory and free space, SQLite integrity, consent\nledger chain, storage budget, serial ports and permissions, Bluetooth adapter, upstream broker with the\nconfigured credentials and TLS, clock sanity, the systemd unit, the running agent.\n\nExamples:\n  edge-agent doctor\n  edge-agent doctor --config /etc/edge-agent/config.yaml --json',
    )
    .action(async (o: { config?: string; json?: boolean }) => setCode(await (await load.doctor()).doctorCommand(o, io)));

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
    setCode(await (await load.consent()).consentChangeCommand(true, o, io)),
  );
  targetOptions(consent.command('revoke').description('withdraw a consent: effective at once, purges queued data in scope'))
    .option('--erase', 'also erase the raw data already stored for that device/category')
    .action(async (o: ConsentChangeOptions) => setCode(await (await load.consent()).consentChangeCommand(false, o, io)));
  consent
    .command('show')
    .description('the decisions in force')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode(await (await load.consent()).consentShowCommand(o, io)));
  consent
    .command('verify')
    .description('check the ledger hash chain; names the first edited, removed or reordered entry')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => setCode((await load.consent()).consentVerifyCommand(o, io)));
  consent
    .command('export')
    .description('the household-readable record: one consent receipt per ledger entry')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'receipts as JSON (Kantara / ISO/IEC TS 27560 fields)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (o: { config?: string; json?: boolean; out?: string }) => setCode((await load.consent()).consentExportCommand(o, io)));
  usageWhenBare(consent);
  registerFirmwareCommands(program, io, setCode);

  program.addOption(new Option('--no-color', 'disable colours').hideHelp());
  addExamples(program);
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
