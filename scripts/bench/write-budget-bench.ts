import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeSerialFrame } from '../../firmware-bridge/protocol';
import { agentConfigFile, spawnAgent, type AgentLoad, type RunningAgent } from './agent-process-bench';
import { freePort, startBroker, stopChild } from './proc-stats';
import type { BenchResult } from './stats';

/** Bytes the process (all its threads) caused to be sent to the block layer so far: /proc/<pid>/io write_bytes. */
export function writeBytes(pid: number): number {
  const m = /^write_bytes:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** The wire size of a typical accepted frame (a kitchen-scale event with channel, value and device time). */
export const TYPICAL_FRAME_BYTES = encodeSerialFrame({ type: 'event', seq: 4711, body: { e: 'dispense', ch: 1, v: 18.5, t: 1_765_000_000 } }).length;

async function acceptedFrames(api: string): Promise<number> {
  const st = (await (await fetch(`${api}/api/status`)).json()) as { ingest: { accepted: number } };
  return st.ingest.accepted;
}

/**
 * The endurance card life is projected against, in TB written: a 32 GB consumer microSD card survives roughly
 * 1,000 full writes (~30 TBW) before wear-out; high-endurance cards are rated several times that.
 */
const CARD_TBW = 30;

/**
 * Bytes written to storage by a real `edge-agent run` process per accepted frame, from /proc/<pid>/io: warm up,
 * then count `write_bytes` and accepted frames over `seconds`. Write amplification is bytes written ÷ bytes of
 * frames accepted (their wire size); card life assumes the load runs around the clock.
 */
export async function writeBudgetBench(label: string, load: AgentLoad, seconds: number, warmupS: number): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-write-bench-'));
  const broker = await startBroker(dir);
  let agent: RunningAgent | null = null;
  try {
    const port = await freePort();
    agent = await spawnAgent(agentConfigFile(dir, port, load, broker?.port ?? null), port);
    const pid = agent.child.pid as number;
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    const n0 = await acceptedFrames(agent.api);
    const w0 = writeBytes(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const w1 = writeBytes(pid);
    const n1 = await acceptedFrames(agent.api);
    const secs = (performance.now() - t0) / 1000;
    const frames = Math.max(1, n1 - n0);
    const perFrame = (w1 - w0) / frames;
    const perDay = ((w1 - w0) / secs) * 86_400;
    const p = `writes.${label}`;
    return [
      { name: `${p}.accepted`, value: Math.round(frames / secs), unit: 'frames/s' },
      { name: `${p}.bytes_per_frame`, value: Math.round(perFrame), unit: 'B', ...(label === 'home' ? { target: '<= 2048' } : {}) },
      { name: `${p}.bytes_per_s`, value: Math.round((w1 - w0) / secs), unit: 'B/s' },
      { name: `${p}.write_amplification`, value: Math.round(perFrame / TYPICAL_FRAME_BYTES), unit: 'x frame bytes' },
      { name: `${p}.gb_per_day`, value: Math.round((perDay / 1e9) * 100) / 100, unit: 'GB/day' },
      { name: `${p}.card_life_${CARD_TBW}tbw`, value: Math.round(((CARD_TBW * 1e12) / perDay / 365) * 10) / 10, unit: 'years' },
    ];
  } finally {
    if (agent) await stopChild(agent.child);
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The quiet state: an agent restarted on the data of a home-load run, with its devices configured but silent
 * (no frames at all: ratePerSec 0 and no readings) — what it writes per second with nothing to store.
 */
export async function idleWritesBench(seconds: number): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-idle-bench-'));
  let agent: RunningAgent | null = null;
  try {
    const port = await freePort();
    agent = await spawnAgent(agentConfigFile(dir, port, { devices: 20, ratePerSec: 1 }, null), port);
    await new Promise((r) => setTimeout(r, 3000));
    await stopChild(agent.child);
    const cfg = agentConfigFile(dir, port, { devices: 0, ratePerSec: 0 }, null);
    agent = await spawnAgent(cfg, port);
    const pid = agent.child.pid as number;
    await new Promise((r) => setTimeout(r, 2000));
    const w0 = writeBytes(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const w1 = writeBytes(pid);
    const secs = (performance.now() - t0) / 1000;
    return [{ name: 'writes.idle.bytes_per_s', value: Math.round((w1 - w0) / secs), unit: 'B/s', target: '0' }];
  } finally {
    if (agent) await stopChild(agent.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
