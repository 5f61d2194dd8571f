import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * What the Pi-class benchmark profile models, and how. A Raspberry Pi Zero 2 W has four Cortex-A53 cores at 1 GHz
 * and 512 MB of RAM shared with the OS; the agent is mostly one thread, and one A53 at 1 GHz runs this kind of
 * code roughly 4x slower than one core of the 2-core benchmark VM, so the agent gets a quarter of one core. The
 * quota is enforced in 10 ms periods (not the default 100 ms), so throttling stalls the process for at most 7.5 ms
 * at a time, the way a slower core would spread the same work, rather than freezing it for 75 ms. Memory: 256 MiB
 * for the agent (half the board; the OS, BlueZ and the rest keep the other half). Disk: every fsync takes 5 ms
 * longer (a mid-range SD card; the benchmark VM's disk takes ~0.2 ms).
 *
 * Limits of the model: a quota slows everything uniformly, while an A53 is slower at some things (branchy code,
 * cache misses: its L2 is 512 KB) than others; V8's JIT output for arm64 differs; USB and SD bandwidth are not
 * modelled, only fsync latency. Treat the figures as a floor to stay above, not a prediction.
 */
export const PI_MODEL = {
  cpuPercentOfOneCore: 25,
  cpuPeriodUs: 10_000,
  memoryBytes: 256 * 1024 * 1024,
  fsyncDelayMs: 5,
} as const;

/** A cgroup (v1 or v2) limiting CPU and memory, entered by a launcher prefix before the process starts. */
export class PiCgroup {
  private constructor(
    /** the cgroup.procs files the launcher writes its pid to */
    private readonly procsFiles: string[],
    private readonly dirs: string[],
  ) {}

  /** null when this machine does not let us create cgroups (not root, no cgroupfs): the profile is then skipped. */
  static create(name: string): PiCgroup | null {
    const root = '/sys/fs/cgroup';
    const quota = Math.round((PI_MODEL.cpuPercentOfOneCore / 100) * PI_MODEL.cpuPeriodUs);
    try {
      if (fs.existsSync(path.join(root, 'cgroup.controllers'))) {
        // v2: one directory; the parent must delegate cpu and memory
        const dir = path.join(root, name);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${PI_MODEL.cpuPeriodUs}`);
        fs.writeFileSync(path.join(dir, 'memory.max'), String(PI_MODEL.memoryBytes));
        return new PiCgroup([path.join(dir, 'cgroup.procs')], [dir]);
      }
      const cpu = path.join(root, 'cpu', name);
      const mem = path.join(root, 'memory', name);
      fs.mkdirSync(cpu);
      fs.mkdirSync(mem);
      fs.writeFileSync(path.join(cpu, 'cpu.cfs_period_us'), String(PI_MODEL.cpuPeriodUs));
      fs.writeFileSync(path.join(cpu, 'cpu.cfs_quota_us'), String(quota));
      fs.writeFileSync(path.join(mem, 'memory.limit_in_bytes'), String(PI_MODEL.memoryBytes));
      return new PiCgroup([path.join(cpu, 'cgroup.procs'), path.join(mem, 'cgroup.procs')], [cpu, mem]);
    } catch {
      return null;
    }
  }

  /** `sh -c` prefix that moves itself into the cgroup, then execs the command (same pid, limited from its start). */
  launcher(): string[] {
    const enter = this.procsFiles.map((f) => `echo $$ > '${f}'`).join(' && ');
    return ['/bin/sh', '-c', `${enter} && exec "$@"`, 'pi-cgroup'];
  }

  /** Removes the cgroup (its processes must have exited). */
  remove(): void {
    for (const d of this.dirs) if (fs.existsSync(d)) fs.rmdirSync(d); // a cgroup is removed with rmdir, never rm -r
  }
}

/** Builds the slow-fsync shim into a temp dir; null without gcc (the profile then runs without the disk model). */
export function buildSlowFsync(): string | null {
  const src = path.join(__dirname, '..', '..', '..', '..', 'scripts', 'bench', 'pi', 'slow-fsync.c');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'edge-slow-fsync-')), 'slow-fsync.so');
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', out, src, '-ldl'], { encoding: 'utf8' });
  return r.status === 0 ? out : null;
}

/** The environment that applies the disk model to a child. */
export function slowDiskEnv(shim: string | null): NodeJS.ProcessEnv {
  return shim ? { LD_PRELOAD: shim, EDGE_BENCH_FSYNC_MS: String(PI_MODEL.fsyncDelayMs) } : {};
}

/**
 * The node options the systemd unit gives the agent (its `Environment=NODE_OPTIONS=` line), so the benchmark
 * measures exactly what a gateway runs.
 */
export function serviceNodeOptions(): string[] {
  const m = /^Environment=NODE_OPTIONS=(.*)$/m.exec(serviceUnit());
  return m ? m[1].trim().split(/\s+/) : [];
}

/** The unit's `EDGE_V8_FLAGS` (V8 flags NODE_OPTIONS refuses, applied by bin/edge-agent.js), as environment. */
export function serviceV8FlagsEnv(): NodeJS.ProcessEnv {
  const m = /^Environment=EDGE_V8_FLAGS=(.*)$/m.exec(serviceUnit());
  return m ? { EDGE_V8_FLAGS: m[1].trim() } : {};
}

/** Whether the unit keeps a V8 compile cache (`Environment=NODE_COMPILE_CACHE=`): the bench then keeps one too. */
export function serviceUsesCompileCache(): boolean {
  return /^Environment=NODE_COMPILE_CACHE=\S/m.test(serviceUnit());
}

function serviceUnit(): string {
  return fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'scripts', 'systemd', 'edge-agent.service'), 'utf8');
}
