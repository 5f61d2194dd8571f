/**
 * Run inside the Pi-class cgroup by the `pi` bench group: arrival→decision latency of the in-process pipeline at
 * a given rate, printed as the bench's JSON lines. Argument: `<rate per second> <seconds>`.
 */
import { decisionLatency } from '../ingest-bench';

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? '100');
  const seconds = Number(process.argv[3] ?? '10');
  for (const r of await decisionLatency(rate, seconds)) process.stdout.write(JSON.stringify(r) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`pi-latency-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
