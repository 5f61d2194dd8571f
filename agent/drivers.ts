import type { AgentConfig } from './config';
import type { Driver } from '../drivers/types';
import { SimDriver } from '../drivers/sim/sim-driver';
import type { Logger } from './logger';
import type { BleDriverOptions } from '../drivers/ble/ble-driver';
import { DEFAULT_SENSOR_MODEL, type BleDeviceSpec } from '../drivers/ble/ble-device-spec';
import type { DecoderSpec, ScriptedDecode } from '../drivers/ble/characteristic-decoder';
import type { BleDeviceConfig } from './config/types';
import type { ScriptHost } from './sandbox/script-host';
import { checkDecoded } from './sandbox/script-kind';
import { bleDecoderScriptId } from './sandbox/configured-scripts';

/**
 * Runs BLE sensor `decoder:` scripts in the agent's ScriptHost and hands the driver plain numbers: the driver
 * never sees the agent (DESIGN §2). Booleans count as 0/1; strings have no channel to go to and are ignored.
 */
export function scriptedDecoder(host: ScriptHost): ScriptedDecode {
  return (scriptId, payload, metadata) => {
    const r = host.run(scriptId, [Array.from(payload), metadata], checkDecoded);
    if (!r.ok) return { ok: false, error: `decoder ${r.error.kind} error: ${r.error.detail}${r.disabled ? ' (disabled after 3 failures in a row)' : ''}` };
    const values: Record<string, number> = {};
    const events: string[] = [];
    for (const m of r.value) {
      for (const t of m.telemetry) {
        for (const [k, v] of Object.entries(t.values)) {
          if (typeof v === 'number') values[k] = v;
          else if (typeof v === 'boolean') values[k] = v ? 1 : 0;
        }
      }
      events.push(...m.events);
    }
    return { ok: true, value: { values, events } };
  };
}

/** A configured BLE device as the driver takes it; sensor channels are numbered from 1 in config order. */
export function bleDeviceSpec(d: BleDeviceConfig): BleDeviceSpec {
  if (!d.characteristics) return { id: d.id, address: d.address };
  let n = 0;
  return {
    id: d.id,
    address: d.address,
    sensor: {
      model: d.deviceType ?? DEFAULT_SENSOR_MODEL,
      characteristics: d.characteristics.map((c, j) => {
        const first = c.channels[0]?.key ?? 'value';
        const decoder: DecoderSpec =
          c.decoder.kind === 'script'
            ? { kind: 'script', scriptId: bleDecoderScriptId(d.id, j) }
            : c.decoder.kind === 'numeric'
              ? { kind: 'numeric', format: c.decoder.format, scale: c.decoder.scale, offset: c.decoder.offset, key: first }
              : { kind: 'standard', uuid: c.uuid, key: first };
        return {
          uuid: c.uuid,
          ...(c.service ? { service: c.service } : {}),
          mode: c.mode,
          pollMs: c.pollMs,
          decoder,
          channels: c.channels.map((ch) => ({ n: ++n, key: ch.key, kind: ch.kind, category: c.category })),
        };
      }),
    },
  };
}

export interface CreateDriversOptions {
  speed?: number;
  /** the agent's script host, for BLE decoder scripts */
  scripts?: ScriptHost;
  /** BLE supervision and reconnect settings (tests, benchmarks) */
  ble?: Omit<BleDriverOptions, 'scripted'>;
}

/** Builds one driver per transport from the config's device list. */
export function createDrivers(cfg: AgentConfig, log: Logger, opts: CreateDriversOptions = {}): Driver[] {
  const drivers: Driver[] = [];
  const sims = cfg.devices.filter((d) => d.transport === 'sim');
  if (sims.length > 0) {
    drivers.push(
      new SimDriver({
        devices: sims.map((d) => ({
          id: d.id,
          model: d.model,
          fw: 'sim-1.0.0',
          kind: d.model,
          ...(d.ratePerMin !== undefined ? { ratePerMin: d.ratePerMin } : {}),
        })),
        ...(opts.speed !== undefined ? { speed: opts.speed } : {}),
      }),
    );
  }
  const serial = cfg.devices.flatMap((d) => (d.transport === 'serial' ? [{ id: d.id, port: d.port, baud: d.baud }] : []));
  if (serial.length > 0) {
    // Loaded only when serial devices are configured (serialport and its bindings: ~70 modules).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialDriver } = require('../drivers/serial/serial-driver') as typeof import('../drivers/serial/serial-driver');
    drivers.push(new SerialDriver(serial));
  }
  const ble = cfg.devices.flatMap((d) => (d.transport === 'ble' ? [bleDeviceSpec(d)] : []));
  if (ble.length > 0) {
    const scripts = opts.scripts;
    const needsScripts = ble.some((d) => d.sensor?.characteristics.some((c) => c.decoder.kind === 'script'));
    if (needsScripts && !scripts) {
      // Without the agent's script host, scripted sensors would decode nothing: say so instead of failing silently.
      log.warn('BLE decoder scripts cannot run: no script host given to createDrivers');
    }
    // Loaded only when BLE devices are configured: node-ble and dbus-next cost ~10 MiB of RSS a serial-only
    // gateway should not pay.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { BleDriver } = require('../drivers/ble/ble-driver') as typeof import('../drivers/ble/ble-driver');
    drivers.push(new BleDriver(ble, { ...opts.ble, ...(scripts ? { scripted: scriptedDecoder(scripts) } : {}) }));
  }
  return drivers;
}
