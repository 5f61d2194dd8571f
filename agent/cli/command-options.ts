import { Option } from 'commander';
import { DEFAULT_BAUD } from '../../drivers/serial/baud';
import { CONFIG_SCHEMA } from '../config/schema';

const FIRMWARE = CONFIG_SCHEMA.properties.firmware.properties;

/** Where a command looks for its config file without --config (agent/cli/config-path.ts). */
const CONFIG_SEARCH = '$EDGE_AGENT_CONFIG, ./config.yaml, /etc/edge-agent/config.yaml';

/**
 * The options several commands take, each defined once. Every call makes a fresh Option: commander keeps parse
 * state on the object, so one Option must not be shared between commands.
 */
export const sharedOptions = {
  /** `-c, --config`; `use` says what the command reads from it; `searched: false` for a command that reads none by default */
  config: (use?: string, { searched = true } = {}): Option =>
    new Option('-c, --config <file>', `config file${use ? `, ${use}` : ''}${searched ? ` (default: ${CONFIG_SEARCH})` : ''}`),
  /** `--json`: one JSON document (or JSON lines) on stdout, errors included (docs/cli.md) */
  json: (what = 'machine-readable output'): Option => new Option('--json', `${what}; errors as {"ok": false, "error": …}`),
  /** `--url`: talk to the agent here instead of at the config's api.listen */
  url: (): Option =>
    new Option('--url <url>', `local API base URL (default http://<api.listen> from the config, else ${CONFIG_SCHEMA.properties.api.properties.listen.default})`),
  /** `-y, --yes`: never prompt */
  yes: (what: string): Option => new Option('-y, --yes', what),
  /** `-d, --device <id>`, required */
  device: (): Option => new Option('-d, --device <id>', 'device id').makeOptionMandatory(),
  /** `--baud` for a port speaking our protocol */
  protocolBaud: (flags = '--baud <rate>', what = 'serial baud rate'): Option =>
    new Option(flags, what).default(String(DEFAULT_BAUD)),
  /** `-b, --baud` while the flasher stub transfers an image */
  transferBaud: (): Option =>
    new Option('-b, --baud <rate>', 'baud rate for the transfer once the flasher stub runs').default(String(FIRMWARE.baud.default)),
  /** `--hello-timeout`: how long new firmware has to say hello */
  helloTimeout: (seconds: number = FIRMWARE.helloTimeoutS.default): Option =>
    new Option('--hello-timeout <seconds>', "how long to wait for the device's hello").default(String(seconds)),
  /** `--timeout` for a device command's ack */
  ackTimeout: (): Option => new Option('--timeout <seconds>', 'wait this long for the ack before each retry').default('1.5'),
};

/** What most commands' actions receive from the shared options. */
export interface ConfigAndJson {
  config?: string;
  json?: boolean;
}
