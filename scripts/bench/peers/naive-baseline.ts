import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import * as mqtt from 'mqtt';
import { FrameDecoder, type DeviceFrame } from '../../../firmware-bridge/protocol';
import { deviceWire } from './device-wire';
import { startBroker } from '../proc-stats';

/**
 * The naive baseline a developer would write first: for each frame, decode it, one INSERT (its own transaction,
 * WAL + synchronous=FULL like the agent) and one MQTT publish at QoS 1, awaiting the PUBACK before the next.
 * Frames come from the same wire bytes through the same FrameDecoder, in this process (no PTY).
 */
export async function naiveBaseline(frames: number): Promise<{ framesPerSec: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-peer-naive-'));
  const broker = await startBroker(dir);
  try {
    const db = new Database(path.join(dir, 'naive.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(
      'CREATE TABLE readings (id INTEGER PRIMARY KEY, device TEXT, ch INTEGER, v REAL, t INTEGER); CREATE TABLE events (id INTEGER PRIMARY KEY, device TEXT, name TEXT, ch INTEGER, v REAL, t INTEGER)',
    );
    const insReading = db.prepare('INSERT INTO readings (device, ch, v, t) VALUES (?, ?, ?, ?)');
    const insEvent = db.prepare('INSERT INTO events (device, name, ch, v, t) VALUES (?, ?, ?, ?, ?)');
    const client = broker
      ? await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'naive-bench' })
      : null;
    const wire = deviceWire(frames);
    const decoder = new FrameDecoder();
    let count = 0;
    const t0 = performance.now();
    for (let off = 0; off < wire.length; off += 4096) {
      for (const r of decoder.push(wire.subarray(off, off + 4096))) {
        if (!r.ok) continue;
        const f = r.frame as DeviceFrame;
        const now = Date.now();
        if (f.type === 'reading') for (const x of f.body.readings) insReading.run('scale-0', x.ch, x.v, now);
        else if (f.type === 'event')
          insEvent.run('scale-0', f.body.e, f.body.ch ?? null, f.body.v ?? null, now);
        else continue;
        count++;
        await client?.publishAsync(
          'edge/naive/signals',
          JSON.stringify({ device: 'scale-0', type: f.type, t: now }),
          { qos: 1 },
        );
      }
    }
    const secs = (performance.now() - t0) / 1000;
    await client?.endAsync();
    db.close();
    if (count !== frames) throw new Error(`naive baseline stored ${count} of ${frames} frames`);
    return { framesPerSec: count / secs };
  } finally {
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The disk's fsync latency (append 4 KiB, fsync; `n` times) in the temp dir the benches write to: the per-commit
 * floor of every one-transaction-per-event design, and what group commit amortises.
 */
export function fsyncLatency(n: number): { p50: number; p99: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-fsync-'));
  const fd = fs.openSync(path.join(dir, 'probe'), 'w');
  const block = Buffer.alloc(4096, 1);
  const ms: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      fs.writeSync(fd, block);
      const t0 = performance.now();
      fs.fsyncSync(fd);
      ms.push(performance.now() - t0);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n / 2)], p99: ms[Math.min(n - 1, Math.floor(n * 0.99))] };
}
