import type { Command } from 'commander';
import { usageWhenBare, type CommandContext } from '../command-context';
import { sharedOptions } from '../command-options';
import type { ScriptTestOptions } from './script-command';

export function registerScript(program: Command, ctx: CommandContext): void {
  const script = program.command('script').description('user scripts (decoders, V scoring, qualify conditions)');
  script
    .command('test')
    .description('run a script exactly as the agent would (same engine, limits and checks) and show its result')
    .option('-f, --file <file>', 'the script (a function body or a whole function)')
    .option('--converter <file>', 'a ThingsBoard converter export (converter.json): run its uplink decoder in the language it names')
    .option('-l, --lang <language>', 'js | tbel (default: tbel for .tbel/.mvel files, else js)')
    .option('-i, --input <json>', 'decoder: payload bytes [1,2], a string, JSON sent as text, or a file (sent as its bytes); rule/condition: msg; score: features')
    .option('-k, --kind <kind>', 'decoder | rule | condition | score | transform | switch | generator (guessed from the script when left out)')
    .option('-m, --metadata <json>', 'metadata object for decoders and rules')
    .option('--msg-type <type>', 'msgType for rules and conditions (default EVENT; generators: prevMsgType, default "")')
    .option('--count <n>', 'generator: messages to generate, each from the one before')
    .addOption(sharedOptions.config('to take the limits (scripts:) from it', { searched: false }))
    .option('--timeout <duration>', 'time limit per call, e.g. 50ms')
    .option('--memory-mb <mb>', 'memory limit')
    .addOption(sharedOptions.json())
    .addHelpText(
      'after',
      `
Examples:
  edge-agent script test --file decoder.js --input '{"t": 21.5}'
  edge-agent script test --file decoder.js --input '[102, 8, 97]' --metadata '{"deviceName": "th-1"}'
  edge-agent script test --kind condition --file big-dispense.js --input '{"event": "dispense", "v": 12}'
  edge-agent script test --kind score --file value.js --input '{"f": 4, "r": 1.5}' --json
  edge-agent script test --lang tbel --file filter.tbel --kind condition --input '{"event": "dispense", "v": 12}'
  edge-agent script test --converter converter.json --input payload.json --metadata metadata.json`,
    )
    .action(async (o: ScriptTestOptions) => ctx.exit(await (await import('./script-command')).scriptTestCommand(o, ctx.io)));
  usageWhenBare(script, ctx);
}
