import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { createDrivers } from '../../agent/drivers';
import { silentLogger } from '../../agent/logger';
import { PrivateDbus, hasDbusDaemon } from '../../test/support/bluez-sim/private-dbus';
import { SimProcess } from '../../test/support/bluez-sim/sim-process';
import { benchConfig } from './ingest-bench';
import type { BenchResult } from './stats';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * 20 BLE devices running our firmware's GATT service, notifying one reading frame each at 10 Hz, through a
 * private dbus-daemon and the BlueZ simulator (in its own process) into node-ble, the driver and the whole
 * pipeline with a real SQLite file. Every frame is acked on the downlink once durable. Reports frames offered
 * (distinct frames the devices produced), stored, dropped (must be 0), retransmissions, and the agent's CPU
 * and RSS (this process only).
 */
export async function bleBench(seconds: number, deviceCount = 20, rateHz = 10): Promise<BenchResult[]> {
  if (!hasDbusDaemon) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-ble-bench-'));
  const dbus = new PrivateDbus();
  const address = await dbus.start();
  const before = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
  const sim = new SimProcess();
  let agent: Agent | null = null;
  try {
    const perDevice = Math.round(seconds * rateHz);
    const devices = Array.from({ length: deviceCount }, (_, i) => ({
      address: `24:6F:28:BE:00:${i.toString(16).padStart(2, '0').toUpperCase()}`,
      id: `ble-${i}`,
      rateHz,
      limit: perDevice,
    }));
    await sim.start(address, devices);
    const cfg = benchConfig(path.join(dir, 'data'), 0, {
      devices: devices.map((d, i) => ({ id: d.id, transport: 'ble', address: d.address, profile: `home-${i % 4}` })),
      consent: { grants: devices.map((d) => ({ device: d.id, category: 'environment' as const })) },
    });
    agent = new Agent(cfg, { logger: silentLogger, api: false, drivers: createDrivers(cfg, silentLogger) });
    await agent.start();
    const a = agent;
    const connectStart = Date.now();
    while (a.status().devices.filter((d) => d.connected).length < deviceCount) {
      if (Date.now() - connectStart > 30_000) throw new Error('BLE bench: devices did not all connect within 30 s');
      await sleep(50);
    }
    const connectMs = Date.now() - connectStart;
    const stored = (): number => (a.database.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
    const offered = deviceCount * perDevice;
    let rssMax = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await sim.sample();
    const deadline = Date.now() + seconds * 1000 + 15_000;
    while (Date.now() < deadline) {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      const r = await sim.report();
      if (r.produced >= offered && r.unacked === 0 && stored() >= offered) break;
      await sleep(250);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const report = await sim.report();
    const got = stored();
    const dupRows = (a.database.prepare('SELECT count(*) AS n FROM (SELECT device, device_t FROM readings GROUP BY device, device_t HAVING count(*) > 1)').get() as { n: number }).n;
    const p = `ble.${deviceCount}x${rateHz}hz`;
    return [
      { name: `${p}.connect_all`, value: connectMs, unit: 'ms' },
      { name: `${p}.offered`, value: report.produced, unit: 'frames' },
      { name: `${p}.stored`, value: got, unit: 'frames' },
      { name: `${p}.dropped`, value: report.produced - got, unit: 'frames', target: '0' },
      { name: `${p}.duplicate_rows`, value: dupRows, unit: 'rows', target: '0' },
      { name: `${p}.unacked_at_end`, value: report.unacked, unit: 'frames', target: '0' },
      { name: `${p}.retransmissions`, value: report.retransmissions, unit: 'frames' },
      { name: `${p}.rate`, value: Math.round(got / secs), unit: 'frames/s' },
      { name: `${p}.agent_cpu`, value: Number((((cpu.user + cpu.system) / 1e6 / secs) * 100).toFixed(1)), unit: '% of one core' },
      { name: `${p}.agent_rss_max`, value: Math.round(rssMax / 1048576), unit: 'MiB' },
    ];
  } finally {
    await agent?.stop();
    await sim.stop();
    await dbus.stop();
    if (before === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = before;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? '20');
  bleBench(seconds)
    .then((rs) => {
      for (const r of rs) process.stdout.write(JSON.stringify(r) + '\n');
    })
    .catch((err: unknown) => {
      process.stderr.write(`ble bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    });
}
