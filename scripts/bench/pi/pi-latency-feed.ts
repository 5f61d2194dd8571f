import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { encodeSerialFrame } from '../../../firmware-bridge/protocol';
import type { AgentLaunch } from '../agent-process-bench';
import { dataFrame } from '../ingest-bench';
import type { BenchResult } from '../stats';

/**
 * The feeder side of the Pi-class latency figure: this process (outside the cgroup) writes frames to the child's
 * fd 3 at a fixed rate, each as a record `[u64 BE: CLOCK_MONOTONIC ns when written][u16 BE device][u16 BE length]
 * [wire bytes]`. Both processes read the same monotonic clock (process.hrtime), so the child measures from the
 * moment the bytes were handed to the kernel, as a UART's would be.
 */
export const RECORD_HEADER = 12;

export function encodeRecord(sentAt: bigint, device: number, wire: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER + wire.length);
  b.writeBigUInt64BE(sentAt, 0);
  b.writeUInt16BE(device, 8);
  b.writeUInt16BE(wire.length, 10);
  b.set(wire, RECORD_HEADER);
  return b;
}

/** The record starting at `at`, or null when `buf` does not hold all of it yet. */
export function readRecord(buf: Buffer, at: number): { sentAt: bigint; device: number; wire: Buffer } | null {
  if (buf.length - at < RECORD_HEADER) return null;
  const len = buf.readUInt16BE(at + 10);
  if (buf.length - at < RECORD_HEADER + len) return null;
  return { sentAt: buf.readBigUInt64BE(at), device: buf.readUInt16BE(at + 8), wire: buf.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len) };
}

/** Writes `total` frames round-robin over `devices`, one every 1/rate s on a timer (no busy wait), then ends. */
async function feed(out: Writable, devices: number, rate: number, total: number): Promise<void> {
  const wire = Array.from({ length: total }, (_, i) => encodeSerialFrame(dataFrame(Math.floor(i / devices) * 2)));
  const start = performance.now();
  let i = 0;
  while (i < total) {
    // frames whose time has come (a late timer sends them at once, stamped with when they really left)
    while (i < total && start + (i * 1000) / rate <= performance.now()) {
      out.write(encodeRecord(process.hrtime.bigint(), i % devices, wire[i]));
      i++;
    }
    const next = start + (i * 1000) / rate - performance.now();
    if (i < total) await new Promise((r) => setTimeout(r, Math.max(0, next)));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

/**
 * Runs pi-latency-child.js under `launch` (the cgroup, the disk model) and feeds it `rate` frames/s for `seconds`
 * from here; returns the child's figures.
 */
export async function latencyInside(launch: AgentLaunch, nodeFlags: readonly string[], rate: number, seconds: number, devices = 20): Promise<BenchResult[]> {
  const child = path.join(__dirname, 'pi-latency-child.js');
  const [cmd, ...args] = [...(launch.prefix ?? []), process.execPath, ...nodeFlags, child, String(devices)];
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit', 'pipe'], env: { ...process.env, ...launch.env } });
  try {
    let out = '';
    const exited = new Promise<number | null>((resolve, reject) => {
      p.once('error', reject);
      p.once('exit', resolve);
    });
    const ready = new Promise<void>((resolve, reject) => {
      p.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('ready\n')) resolve();
      });
      void exited.then(() => reject(new Error('latency child exited before it was ready')), reject);
    });
    await ready;
    await feed(p.stdio[3] as Writable, devices, rate, rate * seconds);
    const code = await exited;
    if (code !== 0) throw new Error(`latency child exited with ${code}`);
    return out
      .slice('ready\n'.length)
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as BenchResult);
  } finally {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
