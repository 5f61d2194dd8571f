import type { ChannelInfo } from '../../firmware-bridge/protocol';
import { DeviceCommander } from '../devices/device-commander';
import { DeviceLinks } from '../devices/device-links';
import { DeviceRegistry } from '../devices/device-registry';
import type { Part } from '../part';
import type { BaseContext } from './context';
import type { StoreContext } from './store-part';

export interface DevicesContext {
  devices: DeviceRegistry;
  links: DeviceLinks;
  commander: DeviceCommander;
  /** a device's type: what its hello said, else its configured sim model */
  deviceType: (id: string) => string | null;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The devices: registered from config, restored from the registry table, reachable through the drivers' links. */
export class DevicesPart implements Part<BaseContext & StoreContext, DevicesContext> {
  readonly name = 'devices';
  private commander: DeviceCommander | null = null;

  async start({ config, bus, status, ingestStore }: BaseContext & StoreContext): Promise<DevicesContext> {
    const devices = new DeviceRegistry();
    for (const d of config.devices) devices.register(d.id, d.transport, d.profile ?? null);
    for (const rec of ingestStore.devices()) {
      const s = devices.sessions.get(rec.id);
      if (s) s.restore({ fw: rec.fw, model: rec.model, lastSeen: rec.lastSeen, channels: parseChannels(rec.channels), caps: parseCaps(rec.caps) });
    }
    // The duplicate window as it was at the crash or stop: retransmissions of committed frames stay duplicates.
    const seqs = ingestStore.seqsSinceHello();
    for (const s of devices.sessions.values()) s.restoreSeqs(seqs.get(s.id) ?? []);
    const links = new DeviceLinks();
    const commander = new DeviceCommander(bus, { send: (id, frame) => links.send(id, frame), nextSeq: (id) => devices.nextSeq(id) });
    this.commander = commander;
    const deviceType = (id: string): string | null => {
      const model = devices.sessions.get(id)?.model ?? null;
      if (model !== null) return model;
      const d = config.devices.find((x) => x.id === id);
      return d?.transport === 'sim' ? d.model : null;
    };
    status.set('devices', () =>
      [...devices.sessions.values()].map((s) => ({
        id: s.id,
        transport: s.transport,
        type: s.model,
        profile: s.profile,
        connected: s.connected,
        lastSeen: iso(s.lastSeen),
        framesOk: s.framesOk,
        framesBad: s.framesBad,
        fw: s.fw,
        link: s.linkDetail,
        rssi: s.rssi,
        uptimeS: s.uptimeS,
        rateLimited: s.rateLimited,
      })),
    );
    status.set('drivers', () => links.stats());
    return { devices, links, commander, deviceType };
  }

  async stop(): Promise<void> {
    this.commander?.stop();
    this.commander = null;
  }
}

/** The registry's `caps` column (migration 7: the last hello's capabilities, JSON); unreadable counts as none. */
function parseCaps(json: string | null): string[] {
  try {
    const v = json === null ? [] : (JSON.parse(json) as unknown);
    return Array.isArray(v) ? v.filter((c): c is string => typeof c === 'string') : [];
  } catch {
    return [];
  }
}

/** The registry's `channels` column (the last hello's list, JSON); anything unreadable counts as no channels. */
function parseChannels(json: string): ChannelInfo[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as ChannelInfo[]) : [];
  } catch {
    return [];
  }
}
