import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { openDatabase, databasePath } from '../../agent/store/database';
import { OutboxStore } from '../../agent/store/outbox-store';
import type { SyncProfileName } from '../../agent/sync/sync-profile';
import { benchConfig } from './ingest-bench';
import type { BenchResult } from './stats';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A loopback proxy that counts the bytes the agent sends (its side of the wire). */
async function countingProxy(target: number): Promise<{ port: number; bytesUp: () => number; close: () => void }> {
  let up = 0;
  const server = net.createServer((c) => {
    const u = net.connect(target, '127.0.0.1');
    c.on('data', (d: Buffer) => (up += d.length));
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { port, bytesUp: () => up, close: () => server.close() };
}

/**
 * Drains a backlog of `n` queued signals to a local Mosquitto (QoS 1, rows deleted on PUBACK) and reports
 * signals/s and bytes on the wire per signal, against one-message-per-signal JSON on the same topic.
 */
export async function syncDrainBench(n: number, profile: SyncProfileName): Promise<BenchResult[]> {
  if (!MOSQUITTO) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sync-bench-'));
  fs.chmodSync(dir, 0o777);
  const brokerPort = await freePort();
  fs.writeFileSync(path.join(dir, 'm.conf'), `listener ${brokerPort} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\n`);
  const broker = spawn(MOSQUITTO, ['-c', path.join(dir, 'm.conf')], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const proxy = await countingProxy(brokerPort);
  try {
    const cfg = benchConfig(path.join(dir, 'data'), 20, { upstream: { url: `mqtt://127.0.0.1:${proxy.port}`, profile, baseTopic: 'edge' } });
    // queue the backlog directly (as a day offline would leave it)
    fs.mkdirSync(cfg.gateway.dataDir, { recursive: true });
    const db = openDatabase(databasePath(cfg.gateway.dataDir));
    const ins = db.prepare(
      "INSERT INTO outbox (signal_id, kind, profile, campaign, device, category, payload, bytes, created_at) VALUES (?, 'signal', ?, 'coffee-reorder', NULL, NULL, ?, ?, ?)",
    );
    let perSignalJson = 0;
    const t0 = Date.now() - n;
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        const p = `home-${i % 5}`;
        const payload = JSON.stringify({ id, profile: p, campaign: 'coffee-reorder', index: 123.456789, r: 1.5, f: (i % 40) + 1, v: 72, trigger: false, channels: [], ts: t0 + i });
        perSignalJson += payload.length;
        ins.run(id, p, payload, payload.length, t0 + i);
      }
    })();
    db.close();
    const agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false });
    const start = process.hrtime.bigint();
    await agent.start();
    // not status(): it counts the whole outbox, which would itself load the drain
    const outbox = new OutboxStore(agent.database);
    while (!outbox.isEmpty()) await new Promise((r) => setTimeout(r, 20));
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    const bytes = proxy.bytesUp();
    const st = agent.status().upstream;
    await agent.stop();
    // one message per signal: MQTT PUBLISH fixed header (2–3) + topic (2 + len) + packet id (2) + the JSON
    const topic = profile === 'thingsboard' ? 'v1/gateway/telemetry' : 'edge/bench-gw/signals';
    const naive = perSignalJson / n + 3 + 2 + topic.length + 2 + (profile === 'thingsboard' ? 30 : 40);
    return [
      { name: `sync.${profile}.drain`, value: Math.round(n / secs), unit: 'signals/s', target: '>= 20000' },
      { name: `sync.${profile}.messages`, value: st.messages, unit: 'messages' },
      { name: `sync.${profile}.wire_bytes_per_signal`, value: Number((bytes / n).toFixed(1)), unit: 'bytes' },
      { name: `sync.${profile}.naive_bytes_per_signal`, value: Number(naive.toFixed(1)), unit: 'bytes', peer: 'one message per signal' },
    ];
  } finally {
    proxy.close();
    broker.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
