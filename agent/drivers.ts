import type { AgentConfig } from './config';
import type { Driver, FrameSink } from '../drivers/types';
import { SimDriver } from '../drivers/sim/sim-driver';
import { SerialDriver } from '../drivers/serial/serial-driver';
import type { Logger } from './logger';

/**
 * Reports configured devices whose transport has no driver in this build, so `status` says why they are down
 * instead of silently showing them as disconnected.
 */
class UnavailableTransport implements Driver {
  constructor(
    readonly name: string,
    private readonly ids: string[],
    private readonly reason: string,
  ) {}
  async start(sink: FrameSink): Promise<void> {
    for (const id of this.ids) sink.onLink(id, false, this.reason);
  }
  async stop(): Promise<void> {}
  send(): boolean {
    return false;
  }
}

/** Builds one driver per transport from the config's device list. */
export function createDrivers(cfg: AgentConfig, log: Logger, opts: { speed?: number } = {}): Driver[] {
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
  if (serial.length > 0) drivers.push(new SerialDriver(serial));
  for (const transport of ['ble'] as const) {
    const ids = cfg.devices.filter((d) => d.transport === transport).map((d) => d.id);
    if (ids.length === 0) continue;
    const reason = `no ${transport} driver in edge-agent ${'v0.1'} yet`;
    log.warn(`devices on transport ${transport} cannot be reached by this build`, { devices: ids });
    drivers.push(new UnavailableTransport(transport, ids, reason));
  }
  return drivers;
}
