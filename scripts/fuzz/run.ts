import { runFuzzCampaign } from './fuzz-campaign';

/**
 * `npm run fuzz [-- --frames N --downlink N --broker-downlink N --api N --concurrency N --seed S]`: the long fuzz
 * campaign of issue #21 (defaults: 200,000 device inputs, 100,000 downlink messages fed directly and 1,000,000
 * through a real Mosquitto broker, 100,000 API/panel requests, 32 at a time). Prints the report as JSON; exits 1
 * when anything was found. SIGINT/SIGTERM ends the run at the next chunk and prints the report so far. `npm test`
 * runs the same campaign with a small budget.
 */
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`fuzz: --${name} needs a whole number, got "${process.argv[i + 1] ?? ''}"\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const budget = {
    frames: flag('frames', 200_000),
    downlink: flag('downlink', 100_000),
    brokerDownlink: flag('broker-downlink', 1_000_000),
    api: flag('api', 100_000),
    concurrency: flag('concurrency', 32),
    seed: flag('seed', Date.now() % 2 ** 31),
  };
  // Ctrl-C or SIGTERM: every phase ends at its next chunk and the report so far is printed (a second one exits)
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`fuzz: ${sig}: finishing the current chunk, then reporting what was done\n`);
      stop.abort();
    });
  }
  const report = await runFuzzCampaign(budget, (line) => process.stderr.write(`${line}\n`), stop.signal);
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  const found =
    report.frames.crashes +
    report.frames.stateChangesOnReject +
    report.downlink.crashes +
    report.downlink.stateChangesOnReject +
    report.downlink.lost +
    report.api.crashes + report.api.stateChangesWithoutCredentials + report.invariantViolations.length + report.fileReadsOutsideDataDir.length;
  const cut = report.interrupted ? ' (interrupted: the budget was not spent)' : '';
  process.stderr.write(`fuzz: ${found === 0 ? 'nothing found' : `${found} findings`} in ${(report.ms / 1000).toFixed(1)} s${cut} (replay with --seed ${report.seed})\n`);
  process.exit(found === 0 ? 0 : 1);
}

void main();
