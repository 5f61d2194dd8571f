import type { GatewayFrame } from '../../firmware-bridge/protocol';
import type { Driver, FrameSink } from '../types';
import { SerialLink, type OpenSerialPort } from './serial-link';

export interface SerialDeviceSpec {
  id: string;
  port: string;
  baud: number;
}

/** All serial devices of the config: one SerialLink each. */
export class SerialDriver implements Driver {
  readonly name = 'serial';
  private readonly links = new Map<string, SerialLink>();

  constructor(
    private readonly devices: readonly SerialDeviceSpec[],
    private readonly opts: { silenceTimeoutMs?: number; openPort?: OpenSerialPort } = {},
  ) {}

  async start(sink: FrameSink): Promise<void> {
    for (const d of this.devices) {
      const link = new SerialLink({ deviceId: d.id, path: d.port, baudRate: d.baud, ...this.opts }, sink);
      this.links.set(d.id, link);
      link.start();
    }
  }

  send(deviceId: string, frame: GatewayFrame): boolean {
    return this.links.get(deviceId)?.send(frame) ?? false;
  }

  link(deviceId: string): SerialLink | undefined {
    return this.links.get(deviceId);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    this.links.clear();
  }
}
