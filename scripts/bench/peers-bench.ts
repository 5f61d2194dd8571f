import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { agentConfigFile, spawnAgent } from './agent-process-bench';
import { nodeRedFlow, nodeRedSettings } from './peers/node-red/flow';
import { deviceWire } from './peers/device-wire';
import { fsyncLatency, naiveBaseline } from './peers/naive-baseline';
import { MiB, cpuSeconds, freePort, rssBytes, startBroker, stopChild, waitForLine } from './proc-stats';
import type { BenchResult } from './stats';

/** Source folder of the Node-RED peer package (its own package.json, lockfile and node_modules). */
const NODE_RED_PKG = path.resolve(__dirname, '..', '..', '..', 'scripts', 'bench', 'peers', 'node-red');
const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * Installs the Node-RED peer on demand: `npm ci` in its own folder (never in the agent's dependencies). sqlite3
 * builds from source with node-gyp here (allowed in that package.json's allowScripts). Returns an error text or null.
 */
export function ensureNodeRed(): string | null {
  if (
    fs.existsSync(path.join(NODE_RED_PKG, 'node_modules', 'node-red', 'red.js')) &&
    fs.existsSync(path.join(NODE_RED_PKG, 'node_modules', 'sqlite3', 'build'))
  )
    return null;
  process.stderr.write(
    'bench: installing the Node-RED peer (npm ci in scripts/bench/peers/node-red, ~1–2 min once)\n',
  );
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: NODE_RED_PKG,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  return r.status === 0 ? null : `npm ci failed in ${NODE_RED_PKG}: ${r.stderr?.toString().slice(-400)}`;
}

interface PtyPair {
  gateway: string;
  device: string;
  stop: () => Promise<void>;
}

async function ptyPair(dir: string): Promise<PtyPair> {
  const gateway = path.join(dir, 'ttyUSB0');
  const device = path.join(dir, 'ttyUSB0-device');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${gateway}`, `pty,raw,echo=0,link=${device}`], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 5000;
  while (!(fs.existsSync(gateway) && fs.existsSync(device))) {
    if (Date.now() > deadline) throw new Error('socat did not create the PTY pair');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { gateway, device, stop: () => stopChild(socat) };
}

/**
 * The device side in its own process: writes the wire file into the PTY as fast as it is taken (unpaced: the
 * question is how fast each system makes frames durable) and drains whatever comes back (acks), as firmware does.
 */
function startWriter(devicePty: string, wireFile: string): ChildProcess {
  const src = `
    const fs = require('fs'); const data = fs.readFileSync(${JSON.stringify(wireFile)});
    const fd = fs.openSync(${JSON.stringify(devicePty)}, 'r+');
    const rx = fs.createReadStream(null, { fd: fs.openSync(${JSON.stringify(devicePty)}, 'r'), highWaterMark: 65536 });
    rx.on('data', () => {}); rx.on('error', () => {});
    let off = 0;
    const next = () => {
      if (off >= data.length) return process.stdout.write('done\\n');
      fs.write(fd, data, off, Math.min(4096, data.length - off), null, (err, n) => { if (err) throw err; off += n; next(); });
    };
    next();`;
  return spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
}

interface DurableRun {
  framesPerSec: number;
  stored: number;
  seconds: number;
  rssMaxBytes: number;
  cpuPercent: number;
}

/**
 * Feeds `frames` over the PTY to a running system (pid) and waits until its SQLite file holds them all (or
 * `timeoutS` passes), sampling the process's RSS and CPU meanwhile. Rows are counted through a second, read-only
 * connection: the WAL lets it read committed rows only, which is what "durable" means here.
 */
async function driveOverPty(
  pty: PtyPair,
  dir: string,
  frames: number,
  pid: number,
  dbFile: string,
  timeoutS: number,
): Promise<DurableRun> {
  const wireFile = path.join(dir, 'wire.bin');
  fs.writeFileSync(wireFile, deviceWire(frames));
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  const count = db.prepare('SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM events) AS n');
  const stored = (): number => (count.get() as { n: number }).n;
  const base = stored();
  const cpu0 = cpuSeconds(pid);
  let rssMax = rssBytes(pid);
  const t0 = performance.now();
  const writer = startWriter(pty.device, wireFile);
  try {
    let n = 0;
    while ((n = stored() - base) < frames && performance.now() - t0 < timeoutS * 1000) {
      rssMax = Math.max(rssMax, rssBytes(pid));
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      framesPerSec: n / seconds,
      stored: n,
      seconds,
      rssMaxBytes: Math.max(rssMax, rssBytes(pid)),
      cpuPercent: ((cpuSeconds(pid) - cpu0) / seconds) * 100,
    };
  } finally {
    // A thread blocked reading a PTY holds process exit, so the writer is killed, not asked.
    writer.kill('SIGKILL');
    db.close();
  }
}

/** edge-agent as a user runs it (`edge-agent run`), one serial device on a socat PTY, upstream to Mosquitto. */
export async function edgeAgentOverPty(frames: number, timeoutS: number): Promise<DurableRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-peer-agent-'));
  const broker = await startBroker(dir);
  const pty = await ptyPair(dir);
  let child: ChildProcess | null = null;
  try {
    const apiPort = await freePort();
    const file = agentConfigFile(dir, apiPort, { devices: 1, ratePerSec: 0 }, broker?.port ?? null);
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { devices: unknown[]; ingest?: unknown };
    cfg.devices = [
      { id: 'scale-0', transport: 'serial', port: pty.gateway, baud: 921600, profile: 'home-0' },
    ];
    // One device flooding the link: lift the per-device rate guard (default 500 frames/s), which the peer lacks.
    cfg.ingest = { maxFramesPerSecondPerDevice: 1_000_000 };
    fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
    const agent = await spawnAgent(file, apiPort);
    child = agent.child;
    await new Promise((r) => setTimeout(r, 300)); // the serial driver opens the port just after "ready"
    return await driveOverPty(
      pty,
      dir,
      frames,
      child.pid as number,
      path.join(dir, 'data', 'edge-agent.db'),
      timeoutS,
    );
  } finally {
    if (child) await stopChild(child);
    await pty.stop();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The Node-RED flow (peers/node-red/flow.ts), headless: settings and flows.json in a temp userDir. */
async function nodeRedOverPty(
  frames: number,
  timeoutS: number,
): Promise<DurableRun & { idleRssBytes: number; startMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-peer-nodered-'));
  const broker = await startBroker(dir);
  const pty = await ptyPair(dir);
  let child: ChildProcess | null = null;
  try {
    const dbFile = path.join(dir, 'bench.db');
    const port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'settings.js'),
      nodeRedSettings(port, path.join(NODE_RED_PKG, 'node_modules', 'cbor-x')),
    );
    fs.writeFileSync(
      path.join(dir, 'flows.json'),
      JSON.stringify(
        nodeRedFlow({ serialPort: pty.gateway, dbFile, mqttPort: broker?.port ?? null }),
        null,
        2,
      ),
    );
    const t0 = performance.now();
    child = spawn(
      process.execPath,
      [
        path.join(NODE_RED_PKG, 'node_modules', 'node-red', 'red.js'),
        '--userDir',
        dir,
        '--settings',
        path.join(dir, 'settings.js'),
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stderr?.resume();
    await waitForLine(child, 'stdout', (l) => l.includes('Started flows'), 60_000);
    const startMs = performance.now() - t0;
    // Ready when the setup statements ran: the file is in WAL mode and both tables exist.
    const deadline = Date.now() + 10_000;
    for (;;) {
      let ready = false;
      if (fs.existsSync(dbFile)) {
        const probe = new Database(dbFile, { readonly: true });
        try {
          const tables = probe
            .prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('readings', 'events')")
            .get() as { n: number };
          ready = tables.n === 2 && probe.pragma('journal_mode', { simple: true }) === 'wal';
        } catch {
          ready = false;
        } finally {
          probe.close();
        }
      }
      if (ready) break;
      if (Date.now() > deadline) throw new Error('Node-RED flow did not set up its SQLite file within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500)); // serial node opens its port
    child.stdout?.resume();
    const idleRssBytes = rssBytes(child.pid as number);
    const run = await driveOverPty(pty, dir, frames, child.pid as number, dbFile, timeoutS);
    return { ...run, idleRssBytes, startMs };
  } finally {
    if (child) await stopChild(child);
    await pty.stop();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x);
const ratio = (a: number, b: number): number => Number((a / b).toFixed(1));

/**
 * Peers side by side (issue #11): edge-agent and the Node-RED flow fed the same frames by the same device-side
 * writer over a real PTY, both as separate processes (RSS, CPU from /proc), each until every frame is durable in
 * its SQLite file; then the naive per-event script. `agentIngest` is this run's in-process durable throughput
 * (the `ingest.durable_throughput.20dev` figure), compared with the naive script on the same decode-onwards path.
 */
export async function peersBench(quick: boolean, agentIngest: number | null): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const disk = fsyncLatency(quick ? 50 : 500);
  out.push(
    { name: 'peers.disk.fsync_4k_p50', value: Number(disk.p50.toFixed(3)), unit: 'ms' },
    { name: 'peers.disk.fsync_4k_p99', value: Number(disk.p99.toFixed(3)), unit: 'ms' },
  );
  if (!hasSocat) {
    process.stderr.write('bench: socat not installed, skipping the PTY peers\n');
  } else {
    const agentFrames = quick ? 5_000 : 100_000;
    const agent = await edgeAgentOverPty(agentFrames, quick ? 30 : 60);
    out.push(
      { name: 'peers.pty.edge_agent.durable_throughput', value: round(agent.framesPerSec), unit: 'frames/s' },
      {
        name: 'peers.pty.edge_agent.stored',
        value: agent.stored,
        unit: 'frames',
        target: String(agentFrames),
      },
      { name: 'peers.pty.edge_agent.rss_max', value: MiB(agent.rssMaxBytes), unit: 'MiB' },
      { name: 'peers.pty.edge_agent.cpu', value: round(agent.cpuPercent), unit: '% of one core' },
    );
    const installError = ensureNodeRed();
    if (installError) {
      process.stderr.write(`bench: Node-RED peer skipped: ${installError}\n`);
    } else {
      const nrFrames = quick ? 1_000 : 10_000;
      const nr = await nodeRedOverPty(nrFrames, quick ? 30 : 90);
      const peer = 'node-red 4.1.8 flow';
      out.push(
        {
          name: 'peers.pty.node_red.durable_throughput',
          value: round(nr.framesPerSec),
          unit: 'frames/s',
          peer,
        },
        {
          name: 'peers.pty.node_red.stored',
          value: nr.stored,
          unit: 'frames',
          peer,
          target: String(nrFrames),
        },
        { name: 'peers.pty.node_red.rss_idle', value: MiB(nr.idleRssBytes), unit: 'MiB', peer },
        { name: 'peers.pty.node_red.rss_max', value: MiB(nr.rssMaxBytes), unit: 'MiB', peer },
        { name: 'peers.pty.node_red.cpu', value: round(nr.cpuPercent), unit: '% of one core', peer },
        { name: 'peers.pty.node_red.start_to_flows', value: round(nr.startMs), unit: 'ms', peer },
        {
          name: 'peers.ratio.durable_throughput.edge_agent_vs_node_red',
          value: ratio(agent.framesPerSec, nr.framesPerSec),
          unit: '×',
          peer,
          target: '>= 10',
        },
        {
          name: 'peers.ratio.rss_max.edge_agent_vs_node_red',
          value: Number((agent.rssMaxBytes / nr.rssMaxBytes).toFixed(2)),
          unit: '×',
          peer,
        },
      );
    }
  }
  const naive = await naiveBaseline(quick ? 500 : 5_000);
  const peer = 'naive insert + awaited publish per event';
  out.push({
    name: 'peers.naive.durable_throughput',
    value: round(naive.framesPerSec),
    unit: 'frames/s',
    peer,
  });
  if (agentIngest !== null)
    out.push({
      name: 'peers.ratio.durable_throughput.edge_agent_vs_naive',
      value: ratio(agentIngest, naive.framesPerSec),
      unit: '×',
      peer,
    });
  return out;
}
