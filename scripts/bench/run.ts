import { decisionLatency, ingestThroughput } from './ingest-bench';
import { serialLinkBench } from './serial-bench';
import { bleBench } from './ble-bench';
import { syncDrainBench } from './sync-bench';
import { sandboxBench } from './sandbox-bench';
import { tbelBench } from './tbel-bench';
import { coldStartBench, processLoadBench } from './agent-process-bench';
import { serviceNodeOptions, serviceV8FlagsEnv } from './pi/pi-model';
import { piProfileBench } from './pi/pi-profile-bench';
import { growthBench } from './growth-bench';
import { idleWritesBench, writeBudgetBench } from './write-budget-bench';
import { peersBench } from './peers-bench';
import { firmwareFootprintBench } from './firmware-footprint';
import { thingsboardSoakBench } from './thingsboard-soak';
import { otaBench } from './firmware-update-bench';
import { fleetBench } from './fleet-update-bench';
import { firmwareFaultRuns } from './firmware-fault-runs';
import { printTable, type BenchResult } from './stats';

/** One named group of figures; `--only <name>` runs just that one (comma-separated for several). */
interface BenchGroup {
  name: string;
  run: (quick: boolean, results: readonly BenchResult[]) => Promise<BenchResult[]>;
}

const GROUPS: BenchGroup[] = [
  { name: 'ingest', run: (quick) => ingestThroughput(quick ? 4_000 : 200_000, 20) },
  {
    // Open-loop tails move with anything else the machine does: each rate runs 3 times, the figure is the median
    // of the 3 and `.worst_of_3` the worst.
    name: 'latency',
    run: async (quick) => [
      ...(await repeated(quick ? 1 : 3, () => decisionLatency(1000, quick ? 1 : 10))),
      ...(await repeated(quick ? 1 : 3, () => decisionLatency(10_000, quick ? 1 : 5))),
    ],
  },
  { name: 'serial', run: (quick) => serialLinkBench(quick ? 2 : 10) },
  { name: 'ble', run: (quick) => bleBench(quick ? 3 : 20) },
  { name: 'sandbox', run: (quick) => sandboxBench(quick) },
  { name: 'tbel', run: (quick) => tbelBench(quick) },
  {
    name: 'sync',
    run: async (quick) => [...(await syncDrainBench(quick ? 20_000 : 1_000_000, 'generic')), ...(await syncDrainBench(quick ? 20_000 : 1_000_000, 'thingsboard'))],
  },
  {
    // A real `edge-agent run` process: cold start, then RSS/CPU at a home load and a heavy one.
    name: 'process',
    run: async (quick) => [
      ...(await coldStartBench(quick ? 2 : 5)),
      ...(await processLoadBench('home', { devices: 20, ratePerSec: 1 }, quick ? 3 : 20, quick ? 1 : 5)),
      ...(await processLoadBench('heavy', { devices: 200, ratePerSec: 10 }, quick ? 3 : 20, quick ? 1 : 5)),
      // The same loads with the node options of the systemd unit: what a gateway runs.
      ...(await processLoadBench('home_unit', { devices: 20, ratePerSec: 1 }, quick ? 3 : 20, quick ? 1 : 5, { nodeFlags: serviceNodeOptions(), launch: { env: serviceV8FlagsEnv() }, rssTarget: '< 60' })),
      ...(await processLoadBench('heavy_unit', { devices: 200, ratePerSec: 10 }, quick ? 3 : 20, quick ? 1 : 5, { nodeFlags: serviceNodeOptions(), launch: { env: serviceV8FlagsEnv() } })),
    ],
  },
  {
    // Bytes written to storage (/proc/<pid>/io) per accepted frame at home load and at 1,000 frames/s, and idle.
    name: 'writes',
    run: async (quick) => [
      ...(await writeBudgetBench('home', { devices: 20, ratePerSec: 1 }, quick ? 5 : 60, quick ? 2 : 5)),
      ...(await writeBudgetBench('1k', { devices: 50, ratePerSec: 20 }, quick ? 5 : 30, quick ? 2 : 5)),
      ...(await idleWritesBench(quick ? 5 : 30)),
    ],
  },
  { name: 'growth', run: (quick) => growthBench(quick) },
  // The workloads under a Pi Zero 2 W model: a quarter core, 256 MiB, slow fsync (scripts/bench/pi/pi-model.ts)
  { name: 'pi', run: (quick) => piProfileBench(quick) },
  // the real firmware built for rv32imc: code and RAM per component, worst-case stack from the call graph
  { name: 'firmware', run: () => firmwareFootprintBench() },
  // A simulated hour against the ThingsBoard double: two campaigns per household, RPC, attribute changes, restarts.
  { name: 'thingsboard', run: (quick) => thingsboardSoakBench(quick) },
  // firmware download MB/s against the broker link, one device's 1 MB update on the ROM simulator
  { name: 'ota', run: (quick) => otaBench(quick) },
  // N edge-agent processes updating one ESP32 each through one Mosquitto (--agents N, default 3)
  { name: 'fleet', run: (quick) => fleetBench(quick) },
  // fault-injected updates through the running agent, bricked devices counted (--runs N, --seed S)
  { name: 'faults', run: (quick) => firmwareFaultRuns(quick) },
  {
    name: 'peers',
    // The naive-script ratio needs this run's in-process ingest figure: measured here when the ingest group did not run.
    run: async (quick, results) => {
      const name = 'ingest.durable_throughput.20dev';
      const ingest = results.find((r) => r.name === name)?.value ?? (await ingestThroughput(quick ? 4_000 : 200_000, 20)).find((r) => r.name === name)?.value;
      return peersBench(quick, ingest ?? null);
    },
  },
];

/** Runs a bench `times` times: each figure becomes the median of its runs, plus `<name>.worst_of_<n>` (largest). */
async function repeated(times: number, bench: () => Promise<BenchResult[]>): Promise<BenchResult[]> {
  const runs: BenchResult[][] = [];
  for (let i = 0; i < times; i++) runs.push(await bench());
  if (times === 1) return runs[0];
  return runs[0].flatMap((first, k) => {
    const values = runs.map((r) => r[k].value).sort((a, b) => a - b);
    return [
      { ...first, value: values[Math.floor(values.length / 2)] },
      { name: `${first.name}.worst_of_${times}`, value: values[values.length - 1], unit: first.unit },
    ];
  });
}

function selectedGroups(argv: string[]): BenchGroup[] {
  if (argv.includes('--only-sandbox')) return GROUPS.filter((g) => g.name === 'sandbox'); // older spelling
  const i = argv.indexOf('--only');
  if (i < 0) return GROUPS;
  const names = (argv[i + 1] ?? '').split(',').filter((n) => n !== '');
  const unknown = names.filter((n) => !GROUPS.some((g) => g.name === n));
  if (names.length === 0 || unknown.length > 0) {
    process.stderr.write(`bench: --only needs one of ${GROUPS.map((g) => g.name).join(', ')} (got "${argv[i + 1] ?? ''}")\n`);
    process.exit(2);
  }
  return GROUPS.filter((g) => names.includes(g.name));
}

/**
 * `npm run bench`: JSON lines on stdout ({name, value, unit, peer?, target?}), then a readable table on stderr.
 * `--quick` runs smaller samples (used by the test that keeps the bench runnable); `--only <group>` one group.
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const results: BenchResult[] = [];
  const emit = (rs: BenchResult[]): void => {
    for (const r of rs) {
      results.push(r);
      process.stdout.write(JSON.stringify(r) + '\n');
    }
  };
  for (const g of selectedGroups(argv)) {
    const t0 = Date.now();
    emit(await g.run(quick, results));
    process.stderr.write(`bench: ${g.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const mem = process.memoryUsage();
  emit([{ name: 'process.rss_after_bench', value: Math.round(mem.rss / 1048576), unit: 'MiB' }]);
  process.stderr.write('\n' + printTable(results) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
