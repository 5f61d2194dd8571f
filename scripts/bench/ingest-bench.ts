import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { buildConfig, type AgentConfig, type ConfigInput } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import { FrameDecoder, encodeSerialFrame, type DeviceFrame, type GatewayFrame } from '../../firmware-bridge/protocol';
import { percentile, type BenchResult } from './stats';

const PROFILES = 4;

/**
 * A household-shaped config for `devices` kitchen scales, every consent granted, no upstream (pure ingest); `extra`
 * replaces whole sections. Built through the same validation as a config file. No flood limit that a bench would
 * hit: it measures the pipeline, not the token bucket's refusals.
 */
export function benchConfig(dataDir: string, devices: number, extra: Partial<ConfigInput> = {}): AgentConfig {
  const ids = Array.from({ length: devices }, (_, i) => `scale-${i}`);
  const profiles = Array.from({ length: PROFILES }, (_, i) => `home-${i}`);
  return buildConfig({
    gateway: { id: 'bench-gw', dataDir },
    api: { listen: '127.0.0.1:0' },
    devices: ids.map((id, i) => ({ id, transport: 'sim', model: 'kitchen-scale', profile: profiles[i % PROFILES] })),
    campaigns: [{ id: 'coffee-reorder', qualify: { event: 'dispense' }, value: 72, threshold: 30, cooldown: '1h', channels: ['push'] }],
    storage: { maxBytes: 1 << 30 },
    ingest: { maxFramesPerSecondPerDevice: 1_000_000 },
    consent: {
      grants: [
        ...ids.map((device) => ({ device, category: 'usage' as const })),
        ...profiles.map((profile) => ({ profile, campaign: 'coffee-reorder' })),
        ...profiles.map((profile) => ({ profile, channel: 'push' as const })),
      ],
    },
    log: { level: 'error' },
    ...extra,
  });
}

export const HELLO = (id: string): DeviceFrame => ({
  type: 'hello',
  seq: 0,
  body: {
    id,
    fw: 'bench',
    model: 'kitchen-scale',
    ch: [
      { n: 1, k: 'weight', c: 'usage' },
      { n: 2, k: 'event', c: 'usage' },
    ],
  },
});

/** Alternates a qualifying event and a reading, so every path (consent, store, engagement) is exercised. */
export function dataFrame(i: number): DeviceFrame {
  const seq = (i + 1) & 0xffff;
  return i % 2 === 0
    ? { type: 'event', seq, body: { e: 'dispense', ch: 2, v: 18.5 } }
    : { type: 'reading', seq, body: { readings: [{ ch: 1, v: 512.25 + (i % 100) }] } };
}

/** `prefill` writes into the database file before the agent opens it (the growth bench's stored history). */
export async function withAgent<T>(devices: number, fn: (agent: Agent) => Promise<T>, prefill?: (dataDir: string) => void): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-bench-'));
  prefill?.(dir);
  const agent = new Agent(benchConfig(dir, devices), { logger: silentLogger, drivers: [], api: false });
  await agent.start();
  try {
    return await fn(agent);
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Durable ingest throughput: wire bytes → FrameDecoder → pipeline → group commit → ack, all frames acked. */
export async function ingestThroughput(
  totalFrames: number,
  devices: number,
  prefill?: (dataDir: string) => void,
  label = `${devices}dev`,
  beforeIngest?: (agent: Agent) => void,
): Promise<BenchResult[]> {
  return withAgent(devices, async (agent) => {
    beforeIngest?.(agent);
    const storedRows = (): number =>
      (agent.database.prepare('SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM readings) AS n').get() as { n: number }).n;
    const before = prefill ? storedRows() : 0;
    const perDevice = Math.ceil(totalFrames / devices);
    const ids = Array.from({ length: devices }, (_, i) => `scale-${i}`);
    const decoders = ids.map(() => new FrameDecoder());
    let acks = 0;
    const reply = (f: GatewayFrame): void => {
      if (f.type === 'ack') acks++;
    };
    // Pre-encode the wire bytes so the measurement covers decode onwards, like bytes arriving from a UART.
    const CHUNK = 32;
    const chunks: Array<{ d: number; bytes: Uint8Array }> = [];
    for (let d = 0; d < devices; d++) {
      const frames: Uint8Array[] = [encodeSerialFrame(HELLO(ids[d]))];
      for (let i = 0; i < perDevice; i++) frames.push(encodeSerialFrame(dataFrame(i)));
      for (let i = 0; i < frames.length; i += CHUNK) chunks.push({ d, bytes: Buffer.concat(frames.slice(i, i + CHUNK)) });
    }
    // Round-robin across devices, as several UARTs interleave.
    chunks.sort((a, b) => a.d - b.d);
    const byDevice = ids.map((_, d) => chunks.filter((c) => c.d === d));
    const order: Array<{ d: number; bytes: Uint8Array }> = [];
    for (let k = 0; k < Math.max(...byDevice.map((c) => c.length)); k++) for (const c of byDevice) if (c[k]) order.push(c[k]);

    const p = agent.pipeline;
    const expected = perDevice * devices;
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (const c of order) {
      for (const r of decoders[c.d].push(c.bytes)) {
        if (r.ok) p.onFrame(ids[c.d], r.frame as DeviceFrame, reply);
      }
      // Let group-commit timers and acks run, as the event loop would between serial reads.
      if (++n % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    while (acks < expected) await new Promise((r) => setTimeout(r, 1));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const stored = storedRows() - before;
    if (stored !== expected) throw new Error(`bench integrity: ${stored} rows stored, ${expected} expected`);
    return [
      { name: `ingest.durable_throughput.${label}`, value: Math.round(expected / secs), unit: 'frames/s', target: '>= 50000' },
      { name: `ingest.frames.${label}`, value: expected, unit: 'frames' },
    ];
  }, prefill);
}

/**
 * Decode→decision latency at a fixed offered load. Latency is measured from the frame's *intended* arrival time
 * (not from when the loop got to it), so a stalled event loop shows up instead of being hidden.
 */
export async function decisionLatency(ratePerSec: number, seconds: number, devices = 20): Promise<BenchResult[]> {
  return withAgent(devices, async (agent) => {
    const ids = Array.from({ length: devices }, (_, i) => `scale-${i}`);
    const decoders = ids.map(() => new FrameDecoder());
    const noop = (): void => undefined;
    ids.forEach((id, d) => {
      for (const r of decoders[d].push(encodeSerialFrame(HELLO(id)))) if (r.ok) agent.pipeline.onFrame(id, r.frame as DeviceFrame, noop);
    });
    const total = ratePerSec * seconds;
    const wire = Array.from({ length: total }, (_, i) => encodeSerialFrame(dataFrame(Math.floor(i / devices) * 2)));
    const fromDecode = new Float64Array(total);
    const fromIntended = new Float64Array(total);
    const start = performance.now();
    const interval = 1000 / ratePerSec;
    let i = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        const now = performance.now();
        while (i < total && start + i * interval <= now) {
          const d = i % devices;
          const t0 = performance.now();
          for (const r of decoders[d].push(wire[i])) if (r.ok) agent.pipeline.onFrame(ids[d], r.frame as DeviceFrame, noop);
          const t1 = performance.now();
          fromDecode[i] = t1 - t0;
          fromIntended[i] = t1 - (start + i * interval);
          i++;
        }
        if (i >= total) resolve();
        else setImmediate(pump);
      };
      pump();
    });
    fromDecode.sort();
    fromIntended.sort();
    const k = `${ratePerSec >= 1000 ? `${ratePerSec / 1000}k` : ratePerSec}`;
    return [
      { name: `latency.decode_to_decision.p50.${k}eps`, value: percentile(fromDecode, 50) * 1000, unit: 'µs' },
      { name: `latency.decode_to_decision.p99.${k}eps`, value: percentile(fromDecode, 99) * 1000, unit: 'µs', target: '< 1000' },
      { name: `latency.decode_to_decision.p99_9.${k}eps`, value: percentile(fromDecode, 99.9) * 1000, unit: 'µs' },
      // From the frame's scheduled arrival: includes waiting behind a commit's fsync on the event loop.
      { name: `latency.offered_to_decision.p50.${k}eps`, value: percentile(fromIntended, 50) * 1000, unit: 'µs' },
      { name: `latency.offered_to_decision.p99.${k}eps`, value: percentile(fromIntended, 99) * 1000, unit: 'µs' },
      { name: `latency.offered_to_decision.p99_9.${k}eps`, value: percentile(fromIntended, 99.9) * 1000, unit: 'µs' },
    ];
  });
}
