import {
  cobsEncode,
  decodeGatewayFrame,
  encodeFrame,
  encodeSerialFrame,
  type DeviceFrame,
  type GatewayFrame,
} from '../../firmware-bridge/protocol';
import { DeviceInput } from '../device-input';
import type { Driver, FrameSink } from '../types';
import { SimDevice, type SimDeviceSpec } from './sim-device';

export interface SimDriverOptions {
  devices: SimDeviceSpec[];
  /** How often simulated devices are polled for due frames. */
  tickMs?: number;
  /** Multiplies every device's rate (demo `--speed`). */
  speed?: number;
  clock?: () => number;
  seed?: number;
}

/** Small deterministic PRNG (mulberry32) so a seeded demo or test replays identically. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Link {
  device: SimDevice;
  input: DeviceInput;
}

/**
 * In-process transport for simulated ESP32 devices. Every frame crosses the real wire format both ways:
 * device frames are COBS/CRC/CBOR-encoded and go through the decode path the serial driver uses (DeviceInput);
 * gateway frames are encoded and decoded before the simulated device sees them.
 */
export class SimDriver implements Driver {
  readonly name = 'sim';
  private readonly links = new Map<string, Link>();
  private timer: NodeJS.Timeout | null = null;
  private sink: FrameSink | null = null;
  private readonly clock: () => number;

  constructor(private readonly opts: SimDriverOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    const rng = seededRandom(this.opts.seed ?? 0x5eed);
    for (const spec of this.opts.devices) {
      const scaled = this.opts.speed && spec.ratePerMin ? { ...spec, ratePerMin: spec.ratePerMin * this.opts.speed } : spec;
      const input = new DeviceInput(spec.id, sink, (frame) => sink.onFrame(spec.id, frame, (reply) => this.send(spec.id, reply)));
      const link: Link = { device: new SimDevice(scaled, rng), input };
      this.links.set(spec.id, link);
      sink.onLink(spec.id, true, 'simulated');
      this.deliverWire(spec.id, link, concat([cobsEncode(link.device.hello()), new Uint8Array([0])]));
    }
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 100);
  }

  private tick(): void {
    const now = this.clock();
    for (const [id, link] of this.links) {
      const frames = link.device.next(now);
      if (frames.length > 0) this.deliverFrames(id, link, frames);
    }
  }

  private deliverFrames(id: string, link: Link, frames: DeviceFrame[]): void {
    this.deliverWire(id, link, concat(frames.map((f) => encodeSerialFrame(f))));
  }

  /** Feeds raw wire bytes through the streaming decoder, exactly as bytes from a UART would be. */
  deliverWire(id: string, link: Link, bytes: Uint8Array): void {
    if (this.links.get(id) === link) link.input.stream(bytes);
  }

  /** Injects raw bytes on a simulated link (tests: garbage, truncated frames). */
  inject(id: string, bytes: Uint8Array): void {
    const link = this.links.get(id);
    if (link) this.deliverWire(id, link, bytes);
  }

  send(deviceId: string, frame: GatewayFrame): boolean {
    const link = this.links.get(deviceId);
    if (!link) return false;
    const onDevice = decodeGatewayFrame(encodeFrame(frame));
    const answers = link.device.onGatewayFrame(onDevice);
    if (answers.length > 0) {
      // Answer asynchronously, as a real device on a wire would.
      setImmediate(() => this.deliverFrames(deviceId, link, answers));
    }
    return true;
  }

  device(id: string): SimDevice | undefined {
    return this.links.get(id)?.device;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const id of this.links.keys()) this.sink?.onLink(id, false, 'stopped');
    this.links.clear();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
