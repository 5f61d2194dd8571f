import { deviceStreamDecoder, encodeSerialFrame, type DeviceFrame, type GatewayFrame } from '../../firmware-bridge/protocol';
import type { Agent } from '../../agent/controller';
import { waitUntil } from './wait-until';

/** Drives an agent's pipeline as a driver would, through the real wire codec, recording what goes back. */
export class DeviceLink {
  readonly sent: GatewayFrame[] = [];
  private readonly decoder = deviceStreamDecoder();
  constructor(
    private readonly agent: Agent,
    readonly id: string,
  ) {}
  send(...frames: DeviceFrame[]): void {
    this.wire(Buffer.concat(frames.map((f) => encodeSerialFrame(f))));
  }
  wire(bytes: Uint8Array): void {
    for (const r of this.decoder.push(bytes)) {
      if (r.ok) this.agent.pipeline.onFrame(this.id, r.frame, (g) => this.sent.push(g));
      else this.agent.pipeline.onBadFrame(this.id, r.error);
    }
  }
  acks(): number[] {
    return this.sent.filter((f) => f.type === 'ack').map((f) => (f.body as { a: number }).a);
  }
}

export const HELLO_SCALE = (id = 'scale-1'): DeviceFrame => ({
  type: 'hello',
  seq: 0,
  body: { id, fw: '1.0', model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }, { n: 2, k: 'event', c: 'usage' }] },
});
export const reading = (seq: number, ch = 1, v = 12.5): DeviceFrame => ({ type: 'reading', seq: seq & 0xffff, body: { readings: [{ ch, v }] } });
export const dispense = (seq: number): DeviceFrame => ({ type: 'event', seq: seq & 0xffff, body: { e: 'dispense', ch: 2 } });

export const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the agent has answered every frame handed to it (committed, fsynced, acked — or refused), however
 * slow the machine: a fixed pause of a few ms is not enough on a loaded or Pi-class one.
 */
export async function allAnswered(agent: Agent, timeoutMs = 10_000): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await waitUntil('the agent to answer every frame', () => agent.pipeline.idle, timeoutMs);
  await new Promise((r) => setImmediate(r));
}
