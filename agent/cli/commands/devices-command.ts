import * as fs from 'node:fs';
import type { StatusDocument } from '../../api/status';
import { openDatabase, databasePath } from '../../store/database';
import { IngestStore } from '../../store/ingest-store';
import { listSerialPorts, probeSerialPort, type ProbeResult, type SerialPortInfo } from '../../../drivers/serial/port-scanner';
import type { CommandResult } from '../../devices/device-commander';
import { BleScanError, scanBle } from '../../../drivers/ble/ble-scanner';
import { AgentClient, AgentNotRunning } from '../api-client';
import { findConfigPath } from '../config-path';
import { CliError } from '../cli-error';
import { jsonFailure, printJson, table, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';

type DeviceRow = StatusDocument['devices'][number];

/** `devices list`: configured and seen devices, live from the running agent or from the registry on disk. */
export async function devicesListCommand(o: { config?: string; json?: boolean }, io: CliOutput): Promise<number> {
  // No config file anywhere: the running agent at the default address is all there is to ask.
  if (findConfigPath(o.config) === null) return printDevices(io, o, (await AgentClient.locate(o).status()).devices, true);
  const { config, file: configFile } = loadConfigOrExit(o.config);
  let rows: DeviceRow[];
  let live = true;
  try {
    rows = (await AgentClient.forConfig(config, configFile).status()).devices;
  } catch (err) {
    if (!(err instanceof AgentNotRunning)) throw err;
    live = false;
    const file = databasePath(config.gateway.dataDir);
    const seen = new Map<string, { model: string | null; fw: string | null; lastSeen: number | null }>();
    if (fs.existsSync(file)) {
      const db = openDatabase(file, { readonly: true });
      try {
        for (const d of new IngestStore(db).devices()) seen.set(d.id, d);
      } finally {
        db.close();
      }
    }
    rows = config.devices.map((d) => {
      const s = seen.get(d.id);
      return {
        id: d.id,
        transport: d.transport,
        type: s?.model ?? null,
        profile: d.profile ?? null,
        connected: false,
        lastSeen: s?.lastSeen ? new Date(s.lastSeen).toISOString() : null,
        framesOk: 0,
        framesBad: 0,
        fw: s?.fw ?? null,
        link: 'agent not running',
      };
    });
  }
  return printDevices(io, o, rows, live, (id) => {
    const d = config.devices.find((x) => x.id === id);
    return d?.transport === 'serial' ? d.port : d?.transport === 'ble' ? d.address : d ? `sim:${d.model}` : '-';
  });
}

/** The device table (or `{live, devices}` under --json); `addressOf` knows ports and addresses when a config does. */
function printDevices(io: CliOutput, o: { json?: boolean }, rows: DeviceRow[], live: boolean, addressOf: (id: string) => string = () => '-'): number {
  if (o.json) {
    printJson(io, { live, devices: rows });
    return 0;
  }
  io.out(
    table(
      ['DEVICE', 'TRANSPORT', 'ADDRESS', 'TYPE', 'FW', 'PROFILE', 'LINK', 'LAST SEEN', 'OK', 'BAD'],
      rows.map((d) => [
        d.id,
        d.transport,
        addressOf(d.id),
        d.type ?? '-',
        d.fw ?? '-',
        d.profile ?? '-',
        d.connected ? 'up' : `down${d.link ? ` (${d.link})` : ''}`,
        d.lastSeen ?? 'never',
        String(d.framesOk),
        String(d.framesBad),
      ]),
    ),
  );
  if (!live) io.err('(the agent is not running: link state unknown; showing the registry on disk)');
  return 0;
}

/** `devices scan`: serial ports with USB identity and by-id paths; with --probe, which ones speak our protocol. */
export async function devicesScanCommand(
  o: { port?: string[]; probe?: boolean; baud: string; timeout: string; json?: boolean; ble?: boolean; duration?: string; adapter?: string },
  io: CliOutput,
): Promise<number> {
  if (o.ble) return bleScanCommand({ duration: o.duration ?? '5', ...(o.adapter ? { adapter: o.adapter } : {}), ...(o.json ? { json: true } : {}) }, io);
  if (o.duration !== undefined || o.adapter !== undefined) throw new CliError('--duration and --adapter are for BLE scans: add --ble', 2);
  const baud = Number(o.baud);
  const timeoutMs = Number(o.timeout) * 1000;
  if (!Number.isInteger(baud) || baud <= 0) throw new CliError(`--baud must be a positive integer, got "${o.baud}"`, 2);
  if (!(timeoutMs > 0)) throw new CliError(`--timeout must be seconds > 0, got "${o.timeout}"`, 2);
  const ports: SerialPortInfo[] = listSerialPorts();
  for (const p of o.port ?? []) {
    if (!ports.some((x) => x.path === p)) {
      ports.push({ path: p, byId: null, vendorId: null, productId: null, manufacturer: null, product: null, serialNumber: null });
    }
  }
  const probes = new Map<string, ProbeResult>();
  if (o.probe || (o.port && o.port.length > 0)) {
    for (const p of ports) {
      if (!o.json) io.err(`probing ${p.path} at ${baud} baud …`);
      probes.set(p.path, await probeSerialPort(p.path, baud, timeoutMs));
    }
  }
  if (o.json) {
    printJson(io, { ports: ports.map((p) => ({ ...p, probe: probes.get(p.path) ?? null })) });
    return 0;
  }
  if (ports.length === 0) {
    io.out('no serial ports found — plug the device in, check `dmesg` for the USB-UART, or pass --port PATH');
    return 0;
  }
  io.out(
    table(
      ['PORT', 'BY-ID (use this in config)', 'USB', 'PRODUCT', 'EDGE-AGENT DEVICE'],
      ports.map((p) => {
        const pr = probes.get(p.path);
        const dev = !pr
          ? '(not probed: --probe)'
          : pr.error
            ? `cannot open: ${pr.error}`
            : pr.hello
              ? `${pr.hello.id} (${pr.hello.model}, fw ${pr.hello.fw}, ${pr.hello.ch.map((c) => c.c).join('/')})`
              : pr.speaksProtocol
                ? 'speaks the protocol (no hello seen)'
                : 'no answer';
        return [p.path, p.byId ?? '-', p.vendorId ? `${p.vendorId}:${p.productId}` : '-', [p.manufacturer, p.product].filter(Boolean).join(' ') || '-', dev];
      }),
    ),
  );
  return 0;
}

/** `devices scan --ble`: nearby BLE devices through BlueZ (the agent need not run), ours marked. */
async function bleScanCommand(o: { duration: string; adapter?: string; json?: boolean }, io: CliOutput): Promise<number> {
  const seconds = Number(o.duration);
  if (!(seconds > 0 && seconds <= 300)) throw new CliError(`--duration must be seconds from 0 to 300, got "${o.duration}"`, 2);
  if (!o.json) io.err(`scanning for BLE devices for ${seconds} s …`);
  let result;
  try {
    result = await scanBle({ durationMs: seconds * 1000, ...(o.adapter ? { adapter: o.adapter } : {}) });
  } catch (err) {
    if (err instanceof BleScanError) throw new CliError(err.message, 1);
    throw err;
  }
  if (o.json) {
    printJson(io, result);
    return 0;
  }
  if (result.devices.length === 0) {
    io.out(`no BLE devices seen on ${result.adapter} — is the device powered and advertising? try a longer --duration`);
    return 0;
  }
  io.out(
    table(
      ['ADDRESS', 'NAME', 'RSSI', 'EDGE-AGENT', 'CONNECTED'],
      result.devices.map((d) => [d.address, d.name ?? '-', d.rssi === null ? '-' : `${d.rssi} dBm`, d.edgeAgent ? 'yes' : 'no', d.connected ? 'yes' : 'no']),
    ),
  );
  const ours = result.devices.filter((d) => d.edgeAgent);
  if (ours.length > 0) {
    io.out(`\n${ours.length} device${ours.length > 1 ? 's' : ''} with the edge-agent service; add to devices: in the config, e.g.`);
    for (const d of ours) io.out(`  - { id: ${(d.name ?? d.address).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64)}, transport: ble, address: "${d.address}" }`);
  }
  return 0;
}

/** `devices identify|notify <id>`: a command through the running agent; succeeds only when the device acks it. */
export async function devicesCommandCommand(
  device: string,
  command: 'identify' | 'notify',
  o: { config?: string; json?: boolean; text?: string; led?: string; buzz?: boolean; timeout?: string },
  io: CliOutput,
): Promise<number> {
  const { config, file } = loadConfigOrExit(o.config);
  const timeoutS = Number(o.timeout ?? '1.5');
  if (!Number.isFinite(timeoutS) || timeoutS < 0.05 || timeoutS > 30) throw new CliError('--timeout must be seconds from 0.05 to 30', 2);
  const args: Record<string, unknown> = {};
  if (o.text !== undefined) args.text = o.text;
  if (o.led !== undefined) args.led = o.led;
  if (o.buzz) args.buzz = true;
  const r = await AgentClient.forConfig(config, file).deviceCommand<CommandResult>(
    device,
    { command, ...args, timeoutMs: Math.round(timeoutS * 1000) },
    timeoutS * 3000 + 2000,
  );
  const failure = `${device}: ${command} not acknowledged: ${r.error}`;
  if (o.json) printJson(io, r.acked ? r : jsonFailure(failure, 1, { ...r }));
  else if (r.acked) io.out(`${device}: ${command} acknowledged (seq ${r.seq}, ${r.rttMs} ms, attempt ${r.attempts})`);
  else io.err(failure);
  return r.acked ? 0 : 1;
}
