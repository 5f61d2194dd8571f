/**
 * Run inside the Pi-class cgroup by the `pi` bench group: latency of the in-process pipeline (20 devices) for
 * frames that arrive on fd 3 from the bench process outside the cgroup (pi-latency-feed.ts), the way bytes from a
 * UART arrive: the loop waits in epoll between frames. (It used to generate the frames itself, polling with
 * setImmediate for the next scheduled one: that poll used the whole quarter core, so the process was throttled
 * most of the time and a frame waited ~5 ms for the next CFS period, whatever the agent did.)
 *
 * Figures, as bench JSON lines on stdout (printed when fd 3 ends and every frame was acked):
 * - `arrival_to_decision`: from the moment the feeder wrote the frame to the engagement decision (what the loop
 *   did before getting to it, throttling, decode, consent, index);
 * - `decode_to_decision`: the work alone;
 * - `arrival_to_ack`: until the ack was sent, which by design waits for the frame's group commit and its WAL
 *   fsync (the commit waits for companions, up to `storage.groupCommitMs`, see docs/performance.md).
 * Argument: `<devices>`; "ready" on stdout once the agent runs and every device said hello.
 */
import type { DeviceFrame, GatewayFrame } from '../../../firmware-bridge/protocol';
import { FrameDecoder, encodeSerialFrame } from '../../../firmware-bridge/protocol';
import { HELLO, withAgent } from '../ingest-bench';
import { percentile, type BenchResult } from '../stats';
import { RECORD_HEADER, readRecord } from './pi-latency-feed';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as v8 from 'node:v8';

async function main(): Promise<void> {
  // the unit's V8 flags, as bin/edge-agent.js applies them (before the pipeline's code has run)
  if (process.env.EDGE_V8_FLAGS) v8.setFlagsFromString(process.env.EDGE_V8_FLAGS);
  const devices = Number(process.argv[2] ?? '20');
  const results = await withAgent(devices, async (agent) => {
    const ids = Array.from({ length: devices }, (_, i) => `scale-${i}`);
    const decoders = ids.map(() => new FrameDecoder());
    const arrivedAt = new Map<string, bigint>();
    const fromArrival: number[] = [];
    const fromDecode: number[] = [];
    const toAck: number[] = [];
    const replyFor = (device: string) => (f: GatewayFrame) => {
      if (f.type !== 'ack') return;
      const key = `${device}:${f.body.a}`;
      const t = arrivedAt.get(key);
      if (t === undefined) return;
      arrivedAt.delete(key);
      toAck.push(Number(process.hrtime.bigint() - t) / 1e6);
    };
    const replies = ids.map(replyFor);
    const helloDone = (): void => undefined;
    ids.forEach((id, d) => {
      for (const r of decoders[d].push(encodeSerialFrame(HELLO(id)))) if (r.ok) agent.pipeline.onFrame(id, r.frame as DeviceFrame, helloDone);
    });
    let frames = 0;
    const input = new net.Socket({ fd: 3, readable: true, writable: false });
    let pending: Buffer = Buffer.alloc(0);
    input.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      for (;;) {
        const rec = readRecord(pending, at);
        if (rec === null) break;
        at += RECORD_HEADER + rec.wire.length;
        const t0 = process.hrtime.bigint();
        for (const r of decoders[rec.device].push(rec.wire)) {
          if (!r.ok) continue;
          const frame = r.frame as DeviceFrame;
          arrivedAt.set(`${ids[rec.device]}:${frame.seq}`, rec.sentAt);
          agent.pipeline.onFrame(ids[rec.device], frame, replies[rec.device]);
        }
        const t1 = process.hrtime.bigint();
        fromDecode.push(Number(t1 - t0) / 1e6);
        fromArrival.push(Number(t1 - rec.sentAt) / 1e6);
        frames++;
      }
      pending = pending.subarray(at);
    });
    process.stdout.write('ready\n');
    await new Promise<void>((resolve, reject) => {
      input.once('end', resolve);
      input.once('error', reject);
    });
    // every frame acked (durable) before the figures are taken
    const deadline = Date.now() + 30_000;
    while (arrivedAt.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (arrivedAt.size > 0) throw new Error(`${arrivedAt.size} of ${frames} frames never acked`);
    const ms = (xs: number[]): Float64Array => Float64Array.from(xs).sort();
    const a = ms(fromArrival);
    const d = ms(fromDecode);
    const k = ms(toAck);
    const out: BenchResult[] = [
      { name: 'latency.arrival_to_decision.p50', value: percentile(a, 50) * 1000, unit: 'µs' },
      { name: 'latency.arrival_to_decision.p99', value: percentile(a, 99) * 1000, unit: 'µs', target: '< 1000' },
      { name: 'latency.decode_to_decision.p50', value: percentile(d, 50) * 1000, unit: 'µs' },
      { name: 'latency.decode_to_decision.p99', value: percentile(d, 99) * 1000, unit: 'µs' },
      { name: 'latency.arrival_to_ack.p50', value: percentile(k, 50), unit: 'ms' },
      { name: 'latency.arrival_to_ack.p99', value: percentile(k, 99), unit: 'ms' },
      { name: 'latency.frames', value: frames, unit: 'frames' },
    ];
    return out;
  });
  fs.writeSync(1, results.map((r) => JSON.stringify(r) + '\n').join(''));
}

main().catch((err: unknown) => {
  process.stderr.write(`pi-latency-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
