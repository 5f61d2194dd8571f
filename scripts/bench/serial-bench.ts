import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { createDrivers } from '../../agent/drivers';
import { SerialDriver } from '../../drivers/serial';
import { silentLogger } from '../../agent/logger';
import { encodeSerialFrame, type DeviceFrame } from '../../firmware-bridge/protocol';
import { benchConfig } from './ingest-bench';
import type { BenchResult } from './stats';

const BAUD = 921_600;
const BYTES_PER_SEC = BAUD / 10; // 8N1: 10 bits on the wire per byte

/**
 * One serial link at 921,600 baud, saturated with small reading frames: a separate writer process paces the
 * bytes at the line rate into a socat PTY pair; the agent (this process) reads them through serialport and the
 * whole pipeline. Reports frames/s stored and the agent's CPU share of one core.
 */
export async function serialLinkBench(seconds: number): Promise<BenchResult[]> {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-serial-bench-'));
  const gw = path.join(dir, 'ttyUSB0');
  const dev = path.join(dir, 'ttyUSB0-device');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${gw}`, `pty,raw,echo=0,link=${dev}`], { stdio: 'ignore' });
  try {
    while (!(fs.existsSync(gw) && fs.existsSync(dev))) await new Promise((r) => setTimeout(r, 20));
    const cfg = benchConfig(path.join(dir, 'data'), 1, { devices: [{ id: 'scale-0', transport: 'serial', port: gw, baud: BAUD, profile: 'home-0' }] });
    const drivers = createDrivers(cfg, silentLogger);
    const serial = drivers.find((d): d is SerialDriver => d instanceof SerialDriver);
    const agent = new Agent(cfg, { logger: silentLogger, api: false, drivers });
    await agent.start();
    await new Promise((r) => setTimeout(r, 300));

    // Pre-encode: hello, then small single readings (23 bytes on the wire each).
    const hello: DeviceFrame = { type: 'hello', seq: 0, body: { id: 'scale-0', fw: 'b', model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }] } };
    const frames: Buffer[] = [Buffer.from(encodeSerialFrame(hello))];
    const total = Math.ceil((BYTES_PER_SEC * seconds) / 23);
    for (let i = 1; i <= total; i++) frames.push(Buffer.from(encodeSerialFrame({ type: 'reading', seq: i & 0xffff, body: { readings: [{ ch: 1, v: 500 + (i % 97) / 4 }] } })));
    const file = path.join(dir, 'wire.bin');
    fs.writeFileSync(file, Buffer.concat(frames));
    const wireBytes = fs.statSync(file).size;
    // The device side: paces the bytes at the line rate with async writes, and (like firmware) drains what the
    // gateway sends back (acks) — socat stops relaying both ways if one side never reads.
    const writer = `
      const fs = require('fs'); const data = fs.readFileSync(${JSON.stringify(file)});
      const fd = fs.openSync(${JSON.stringify(dev)}, 'r+');
      const rx = fs.createReadStream(null, { fd: fs.openSync(${JSON.stringify(dev)}, 'r'), highWaterMark: 65536 });
      rx.on('data', () => {}); rx.on('error', () => {});
      const rate = ${BYTES_PER_SEC}; const t0 = Date.now(); let off = 0;
      const tick = () => {
        const due = Math.min(data.length, Math.floor(((Date.now() - t0) / 1000) * rate));
        if (off >= data.length) return process.stdout.write('done\\n');
        if (off >= due) return setTimeout(tick, 2);
        fs.write(fd, data, off, Math.min(4096, due - off), null, (err, n) => { if (err) throw err; off += n; tick(); });
      };
      tick();`;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    // The writer cannot simply exit: a thread blocked reading a PTY holds process exit, so we kill it when done.
    const child = spawn(process.execPath, ['-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => {
      child.stdout.on('data', () => resolve());
      child.on('exit', () => resolve());
    });
    child.kill('SIGKILL');
    // Let the tail drain and commit.
    const count = (): number => (agent.database.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
    const deadline = Date.now() + 5000;
    while (count() < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const stored = count();
    const skipped = serial?.link('scale-0')?.acksSkipped ?? -1;
    await agent.stop();
    return [
      { name: 'serial.921600.offered', value: Math.round(total / seconds), unit: 'frames/s' },
      { name: 'serial.921600.stored', value: Math.round(stored / secs), unit: 'frames/s' },
      { name: 'serial.921600.lost', value: total - stored, unit: 'frames', target: '0' },
      { name: 'serial.921600.wire_utilisation', value: Number((wireBytes / secs / BYTES_PER_SEC).toFixed(3)), unit: 'ratio' },
      { name: 'serial.921600.acks_skipped', value: skipped, unit: 'acks', target: '0' },
      { name: 'serial.921600.agent_cpu', value: Number((((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(1)), unit: '% of one core', target: '< 50' },
    ];
  } finally {
    socat.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
