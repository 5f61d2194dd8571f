import type { GatewayFrame } from '../../firmware-bridge/protocol';
import type { Driver } from '../../drivers/types';

/**
 * Send routing: the drivers the agent runs, each added as it starts. Exists before them, so device commands and
 * consent pushes can be wired early; a send before any driver runs reaches nobody (false), like an unplugged device.
 */
export class DeviceLinks {
  private readonly drivers: Driver[] = [];

  add(driver: Driver): void {
    this.drivers.push(driver);
  }

  /** Sends a gateway frame to a device through whichever driver owns it. */
  send(deviceId: string, frame: GatewayFrame): boolean {
    for (const d of this.drivers) if (d.send(deviceId, frame)) return true;
    return false;
  }

  stats(): Array<{ name: string; stats?: object }> {
    return this.drivers.map((d) => ({ name: d.name, ...(d.stats ? { stats: d.stats() } : {}) }));
  }
}
