import { EspDeviceLink } from '../../firmware-update/esp-device-link';
import {
  DEFAULT_FIRMWARE_OPTIONS,
  FirmwareRequestError,
  FirmwareUpdates,
  type FirmwareStatus,
} from '../../firmware-update/firmware-updates';
import type { DeviceUpdate } from '../../firmware-update/rollout-plan';
import { databasePath, openDatabase } from '../../store/database';
import { IngestStore, type DeviceRecord } from '../../store/ingest-store';
import { CliError } from '../cli-error';
import { printJson, table, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';

interface CommonOptions {
  config?: string;
  json?: boolean;
}

function firmwareOf(
  o: CommonOptions,
  overrides: Partial<typeof DEFAULT_FIRMWARE_OPTIONS> = {},
): FirmwareUpdates {
  const { config } = loadConfigOrExit(o.config);
  return new FirmwareUpdates(config.gateway.dataDir, { ...DEFAULT_FIRMWARE_OPTIONS, ...overrides });
}

const asCli = <T>(f: () => T): T => {
  try {
    return f();
  } catch (err) {
    if (err instanceof FirmwareRequestError) throw new CliError(err.message, 1);
    throw err;
  }
};

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new CliError(`${flag} must be a positive number, got "${value}"`, 2);
  return n;
}

function deviceLine(d: FirmwareStatus['devices'][number]): string[] {
  const note = d.doNotUpdate
    ? 'do not update'
    : d.deferredUntil
      ? `deferred until ${new Date(d.deferredUntil).toISOString()}`
      : '';
  return [
    d.id,
    d.model,
    d.state + (d.step ? `/${d.step}` : ''),
    d.fw ?? '-',
    d.state === 'UPDATING' ? `${d.progress}%` : '',
    [note, d.reason ?? ''].filter(Boolean).join('; '),
  ];
}

export function firmwareStatusCommand(o: CommonOptions, io: CliOutput): number {
  const s = firmwareOf(o).status();
  if (o.json) {
    printJson(io, s);
    return 0;
  }
  if (!s.package) {
    io.out('no firmware package assigned to this gateway');
    return 0;
  }
  const progress = s.bytes !== null ? ` (${s.bytes} of ${s.package.size} bytes)` : '';
  io.out(
    `package ${s.package.title} ${s.package.version} (${s.package.size} bytes): ${s.state}${progress}${s.error ? ` — ${s.error}` : ''}`,
  );
  if (s.devices.length > 0)
    io.out(table(['DEVICE', 'MODEL', 'STATE', 'FW', 'PROGRESS', 'NOTE'], s.devices.map(deviceLine)));
  return 0;
}

export function firmwareDeferCommand(
  o: CommonOptions & { device: string; hours?: string; never?: boolean; clear?: boolean },
  io: CliOutput,
): number {
  const picked = [o.hours !== undefined, o.never === true, o.clear === true].filter(Boolean).length;
  if (picked > 1) throw new CliError('use one of --hours, --never, --clear', 2);
  const until =
    o.hours !== undefined
      ? Date.now() + positive(o.hours, '--hours') * 3600_000
      : picked === 0
        ? Date.now() + 24 * 3600_000
        : undefined;
  const choice = firmwareOf(o).defer(o.device, { until, never: o.never, clear: o.clear });
  if (o.json) printJson(io, { device: o.device, ...choice });
  else if (o.clear) io.out(`${o.device}: firmware updates allowed again`);
  else if (choice.doNotUpdate)
    io.out(`${o.device}: will not be updated (reported upstream as skipped by the household)`);
  else io.out(`${o.device}: updates deferred until ${new Date(choice.deferredUntil ?? 0).toISOString()}`);
  return 0;
}

export function firmwareRetryCommand(o: CommonOptions & { device: string }, io: CliOutput): number {
  const d = asCli(() => firmwareOf(o).retry(o.device));
  if (o.json) printJson(io, d);
  else io.out(`${o.device}: back to PENDING; it is updated at its next turn`);
  return 0;
}

export function firmwareImportCommand(o: CommonOptions & { package: string }, io: CliOutput): number {
  const v = asCli(() => firmwareOf(o).importPackage(o.package));
  if (o.json)
    printJson(io, {
      title: v.pkg.title,
      version: v.pkg.version,
      size: v.pkg.size,
      sha256: v.pkg.checksum,
      state: 'VERIFIED',
    });
  else
    io.out(
      `package ${v.pkg.title} ${v.pkg.version} (${v.pkg.size} bytes) verified; devices of model ${v.pkg.title} are updated at their turn`,
    );
  return 0;
}

export interface FirmwareUpdateOptions extends CommonOptions {
  device: string;
  port: string;
  baud: string;
  appBaud: string;
  helloTimeout: string;
}

/**
 * `firmware update --device D --port P`: the technician at the gateway applies the verified package to one device
 * now, by the rollout's own rules and steps (backup, flash, hello, rollback) except the maintenance window. An
 * update interrupted earlier (agent killed, cable pulled) is finished first.
 */
export async function firmwareUpdateCommand(o: FirmwareUpdateOptions, io: CliOutput): Promise<number> {
  const helloTimeoutMs = positive(o.helloTimeout, '--hello-timeout') * 1000;
  const baud = positive(o.baud, '--baud');
  const appBaud = positive(o.appBaud, '--app-baud');
  const { config } = loadConfigOrExit(o.config);
  const fw = new FirmwareUpdates(config.gateway.dataDir, {
    ...DEFAULT_FIRMWARE_OPTIONS,
    window: null,
    helloTimeoutMs,
  });
  const db = openDatabase(databasePath(config.gateway.dataDir));
  let rec: DeviceRecord | undefined;
  try {
    rec = new IngestStore(db).devices().find((d) => d.id === o.device);
  } finally {
    db.close();
  }
  if (!rec)
    throw new CliError(
      `device ${o.device} is not in the registry (edge-agent devices list; flash or pair it first)`,
      2,
    );
  const known = rec;
  const exec = asCli(() =>
    fw.executor(
      {
        open: async () =>
          new EspDeviceLink({ port: o.port, baud, appBaud, stallTimeoutMs: config.firmware.stallS * 1000 }),
      },
      (r) => {
        const d = r.devices.find((x) => x.id === o.device);
        if (d && !o.json) io.err(`${d.state}${d.step ? `/${d.step}` : ''} ${d.progress}%`);
      },
    ),
  );
  let dev: DeviceUpdate | undefined;
  for (let turn = 0; turn < 2 * DEFAULT_FIRMWARE_OPTIONS.maxAttempts + 2; turn++) {
    const p = fw.plan(
      [
        {
          id: known.id,
          model: known.model,
          fw: dev?.fw ?? known.fw,
          connected: true,
          idle: true,
          doNotUpdate: false,
          deferredUntil: null,
        },
      ],
      Date.now(),
    );
    if (!p) throw new CliError('no firmware package on this gateway (edge-agent firmware status)', 1);
    const a = p.action;
    dev = p.rollout.devices.find((d) => d.id === o.device);
    if (!dev)
      throw new CliError(
        `device ${o.device} (model ${known.model ?? 'unknown'}) is not a target of package ${p.rollout.pkg.title} ${p.rollout.pkg.version}`,
        1,
      );
    if ((a.kind === 'update' || a.kind === 'recover') && a.device !== o.device)
      throw new CliError(
        `device ${a.device} has an unfinished update: run edge-agent firmware update --device ${a.device} first`,
        1,
      );
    if (a.kind === 'update')
      dev = (await exec.update(p.rollout, o.device)).devices.find((d) => d.id === o.device);
    else if (a.kind === 'recover')
      dev = (await exec.recover(p.rollout, o.device)).devices.find((d) => d.id === o.device);
    else break;
    if (!dev || dev.state !== 'PENDING') break;
  }
  if (dev?.state === 'UPDATED' && dev.fw) {
    const db2 = openDatabase(databasePath(config.gateway.dataDir));
    try {
      new IngestStore(db2).recordFlash({
        id: known.id,
        model: known.model ?? '',
        fw: dev.fw,
        channels: JSON.parse(known.channels || '[]') as unknown,
        profile: known.profile,
        mac: null,
        at: Date.now(),
      });
    } finally {
      db2.close();
    }
  }
  if (o.json)
    printJson(io, {
      device: o.device,
      state: dev?.state,
      fw: dev?.fw,
      fromVersion: dev?.fromVersion,
      reason: dev?.reason,
    });
  else
    io.out(
      `${o.device}: ${dev?.state}${dev?.fw ? ` (firmware ${dev.fw})` : ''}${dev?.reason ? ` — ${dev.reason}` : ''}`,
    );
  return dev?.state === 'UPDATED' ? 0 : 1;
}
