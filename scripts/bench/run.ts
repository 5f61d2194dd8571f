import { decisionLatency, ingestThroughput } from './ingest-bench';
import { serialLinkBench } from './serial-bench';
import { syncDrainBench } from './sync-bench';
import { sandboxBench } from './sandbox-bench';
import { printTable, type BenchResult } from './stats';

/**
 * `npm run bench`: JSON lines on stdout ({name, value, unit}), then a readable table on stderr.
 * `--quick` runs smaller samples (used by the test that keeps the bench runnable).
 */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const results: BenchResult[] = [];
  const emit = (rs: BenchResult[]): void => {
    for (const r of rs) {
      results.push(r);
      process.stdout.write(JSON.stringify(r) + '\n');
    }
  };
  emit(await ingestThroughput(quick ? 4_000 : 200_000, 20));
  emit(await decisionLatency(1000, quick ? 1 : 10));
  emit(await decisionLatency(10_000, quick ? 1 : 5));
  emit(await serialLinkBench(quick ? 2 : 10));
  emit(await sandboxBench(quick));
  if (process.argv.includes('--only-sandbox')) {
    process.stderr.write('\n' + printTable(results) + '\n');
    return;
  }
  emit(await syncDrainBench(quick ? 20_000 : 1_000_000, 'generic'));
  emit(await syncDrainBench(quick ? 20_000 : 1_000_000, 'thingsboard'));
  const mem = process.memoryUsage();
  emit([{ name: 'process.rss_after_bench', value: Math.round(mem.rss / 1048576), unit: 'MiB' }]);
  process.stderr.write('\n' + printTable(results) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
