import * as fs from 'node:fs';
import * as path from 'node:path';
import { coldStartBench, processLoadBench, type AgentLaunch } from '../agent-process-bench';
import type { BenchResult } from '../stats';
import { latencyInside } from './pi-latency-feed';
import * as os from 'node:os';
import { PI_MODEL, PiCgroup, buildSlowFsync, serviceNodeOptions, serviceUsesCompileCache, serviceV8FlagsEnv, slowDiskEnv } from './pi-model';

/**
 * The Pi-class profile (pi-model.ts): the same workloads with a quarter of one core, 256 MiB and a slow-fsync
 * disk, run with the node options of the systemd unit. Skipped (with a note on stderr) where cgroups cannot be
 * created, e.g. not root.
 */
export async function piProfileBench(quick: boolean): Promise<BenchResult[]> {
  const cgroup = PiCgroup.create(`edge-bench-pi-${process.pid}`);
  if (!cgroup) {
    process.stderr.write('bench: pi profile skipped: cannot create a cgroup here (run as root on cgroupfs)\n');
    return [];
  }
  const shim = buildSlowFsync();
  if (!shim) process.stderr.write('bench: pi profile without the slow-fsync disk model (no gcc)\n');
  // the unit's compile cache, kept across this run's starts as across a gateway's boots
  const cache = serviceUsesCompileCache() ? fs.mkdtempSync(path.join(os.tmpdir(), 'edge-bench-v8-cache-')) : null;
  const launch: AgentLaunch = { prefix: cgroup.launcher(), env: { ...slowDiskEnv(shim), ...serviceV8FlagsEnv(), ...(cache ? { NODE_COMPILE_CACHE: cache } : {}) } };
  const nodeFlags = serviceNodeOptions();
  try {
    const out: BenchResult[] = [
      { name: 'pi.model.cpu_quota', value: PI_MODEL.cpuPercentOfOneCore, unit: '% of one core' },
      { name: 'pi.model.memory_max', value: PI_MODEL.memoryBytes / 1048576, unit: 'MiB' },
      { name: 'pi.model.fsync_delay', value: shim ? PI_MODEL.fsyncDelayMs : 0, unit: 'ms' },
      // the first start after an install or upgrade compiles everything and writes the cache
      ...(cache ? (await coldStartBench(1, { nodeFlags, launch, prefix: 'pi.cold_start_first' })).filter((r) => !r.name.endsWith('.runs')) : []),
      ...(await coldStartBench(quick ? 2 : 5, { nodeFlags, launch, prefix: 'pi.cold_start', startTarget: '< 1000' })),
      ...(await processLoadBench('pi_home', { devices: 20, ratePerSec: 1 }, quick ? 3 : 20, quick ? 2 : 5, { nodeFlags, launch, prefix: 'pi.home', rssTarget: '< 60' })),
      // what a quarter core sustains: offered well above it, accepted is the ceiling
      ...(await processLoadBench('pi_heavy', { devices: 100, ratePerSec: 10 }, quick ? 3 : 20, quick ? 2 : 5, { nodeFlags, launch, prefix: 'pi.heavy' })),
    ];
    // 100 frames/s fed from outside the cgroup, as from UARTs (pi-latency-feed.ts)
    const lat = await latencyInside(launch, nodeFlags, 100, quick ? 3 : 20);
    out.push(...lat.map((r) => ({ ...r, name: `pi.${r.name}.100eps` })));
    return out;
  } finally {
    cgroup.remove();
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
    if (shim) fs.rmSync(path.dirname(shim), { recursive: true, force: true });
  }
}
