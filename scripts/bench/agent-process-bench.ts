import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../agent/cli/package-root';
import { MiB, freePort, sampleProcess, startBroker, stopChild, waitForLine } from './proc-stats';
import type { BenchResult } from './stats';

/** The checkout root (from dist/scripts/bench/, or from the sources when a test imports this). */
const ROOT = packageRoot();
const CLI = path.join(ROOT, 'bin', 'edge-agent.js');
const PROFILES = 4;

export interface AgentLoad {
  devices: number;
  /** frames per second per device (kitchen-scale events; the sim adds a reading every 15 s and heartbeats) */
  ratePerSec: number;
}

/**
 * A household config for `edge-agent run`: simulated kitchen scales (the sim driver feeds real wire bytes through
 * the same FrameDecoder as the serial driver), every consent granted, upstream to a local Mosquitto when given.
 * JSON is valid YAML, so the file is written as JSON.
 */
export function agentConfigFile(
  dir: string,
  apiPort: number,
  load: AgentLoad,
  brokerPort: number | null,
): string {
  const ids = Array.from({ length: load.devices }, (_, i) => `scale-${i}`);
  const profiles = Array.from({ length: Math.min(PROFILES, load.devices) }, (_, i) => `home-${i}`);
  const cfg = {
    gateway: { id: 'bench-gw', dataDir: path.join(dir, 'data') },
    api: { listen: `127.0.0.1:${apiPort}` },
    ...(brokerPort !== null
      ? { upstream: { url: `mqtt://127.0.0.1:${brokerPort}`, profile: 'generic', baseTopic: 'edge' } }
      : {}),
    devices: ids.map((id, i) => ({
      id,
      transport: 'sim',
      model: 'kitchen-scale',
      profile: profiles[i % profiles.length],
      ratePerMin: load.ratePerSec * 60,
    })),
    campaigns: [
      {
        id: 'coffee-reorder',
        qualify: { event: 'dispense' },
        value: 72,
        threshold: 30,
        cooldown: '1h',
        channels: ['push'],
      },
    ],
    consent: {
      policyVersion: 1,
      grants: [
        ...ids.map((device) => ({ device, category: 'usage' })),
        ...profiles.map((profile) => ({ profile, campaign: 'coffee-reorder' })),
        ...profiles.map((profile) => ({ profile, channel: 'push' })),
      ],
    },
    log: { level: 'info' },
  };
  const file = path.join(dir, 'agent.yaml');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

export interface RunningAgent {
  child: ChildProcess;
  /** ms from spawn to the "ready" log line */
  readyMs: number;
  /** ms from spawn to the first answer of GET /api/status */
  apiMs: number;
  api: string;
}

/** How the agent process is started: a launcher prefix (a cgroup's), extra environment (a disk model's). */
export interface AgentLaunch {
  prefix?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Spawns `node bin/edge-agent.js run --config F` and waits until it logged "ready" and its API answers. */
export async function spawnAgent(
  configFile: string,
  apiPort: number,
  nodeFlags: readonly string[] = [],
  launch: AgentLaunch = {},
): Promise<RunningAgent> {
  const t0 = performance.now();
  const [cmd, ...args] = [...(launch.prefix ?? []), process.execPath, ...nodeFlags, CLI, 'run', '--config', configFile];
  const child = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'info', ...launch.env },
  });
  try {
    await waitForLine(child, 'stderr', (l) => l.includes('"msg":"ready"'), 60_000);
    const readyMs = performance.now() - t0;
    const api = `http://127.0.0.1:${apiPort}`;
    for (;;) {
      const ok = await fetch(`${api}/api/status`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - t0 > 60_000) throw new Error('agent API did not answer within 60 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    // Keep draining stderr so a chatty agent never blocks on a full pipe.
    child.stderr?.resume();
    return { child, readyMs, apiMs: performance.now() - t0, api };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

interface StatusIngest {
  ingest: { accepted: number };
}

async function accepted(api: string): Promise<number> {
  const st = (await (await fetch(`${api}/api/status`)).json()) as StatusIngest;
  return st.ingest.accepted;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** How a process bench runs the agent, and under which names its figures are reported. */
export interface ProcessBenchOptions {
  nodeFlags?: readonly string[];
  launch?: AgentLaunch;
  /** figure names start with this (default `agent.cold_start` / `agent.load.<label>`) */
  prefix?: string;
  /** the RSS target shown next to the mean */
  rssTarget?: string;
  /** the cold-start target shown next to the API figure */
  startTarget?: string;
}

/** Cold start to ready: a fresh process (and a fresh data directory) each time; median of `runs`. */
export async function coldStartBench(runs: number, opts: ProcessBenchOptions = {}): Promise<BenchResult[]> {
  const ready: number[] = [];
  const apiAnswers: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-start-bench-'));
    try {
      const port = await freePort();
      const file = agentConfigFile(dir, port, { devices: 20, ratePerSec: 1 }, null);
      const a = await spawnAgent(file, port, opts.nodeFlags, opts.launch);
      ready.push(a.readyMs);
      apiAnswers.push(a.apiMs);
      await stopChild(a.child);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const p = opts.prefix ?? 'agent.cold_start';
  return [
    { name: `${p}.ready_median`, value: Math.round(median(ready)), unit: 'ms' },
    { name: `${p}.api_answers_median`, value: Math.round(median(apiAnswers)), unit: 'ms', ...(opts.startTarget ? { target: opts.startTarget } : {}) },
    { name: `${p}.runs`, value: runs, unit: 'runs' },
  ];
}

/**
 * RSS and CPU of a real `edge-agent run` process under a steady simulated load, syncing to a local Mosquitto:
 * warm up, then sample /proc/<pid> for `seconds`; frames/s is what the agent accepted (durable) in that window.
 */
export async function processLoadBench(
  label: string,
  load: AgentLoad,
  seconds: number,
  warmupS: number,
  opts: ProcessBenchOptions = {},
): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-load-bench-'));
  const broker = await startBroker(dir);
  let agent: RunningAgent | null = null;
  try {
    const port = await freePort();
    const file = agentConfigFile(dir, port, load, broker?.port ?? null);
    agent = await spawnAgent(file, port, opts.nodeFlags, opts.launch);
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    const n0 = await accepted(agent.api);
    const sample = await sampleProcess(agent.child.pid as number, seconds);
    const n1 = await accepted(agent.api);
    const p = opts.prefix ?? `agent.load.${label}`;
    return [
      { name: `${p}.offered`, value: load.devices * load.ratePerSec, unit: 'events/s' },
      { name: `${p}.accepted`, value: Math.round((n1 - n0) / sample.seconds), unit: 'frames/s' },
      {
        name: `${p}.rss_mean`,
        value: MiB(sample.rssMeanBytes),
        unit: 'MiB',
        ...(opts.rssTarget ? { target: opts.rssTarget } : {}),
      },
      { name: `${p}.rss_max`, value: MiB(sample.rssMaxBytes), unit: 'MiB' },
      { name: `${p}.cpu`, value: Math.round(sample.cpuPercent * 10) / 10, unit: '% of one core' },
    ];
  } finally {
    if (agent) await stopChild(agent.child);
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
