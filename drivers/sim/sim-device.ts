import { CAP_UPDATE, encodeFrame, type ChannelInfo, type DeviceFrame, type FirmwareChoice, type GatewayFrame } from '../../firmware-bridge/protocol';
import { DEVICE_CATALOG, type SimDeviceDescription, type SimKind } from './device-catalog';

export interface SimDeviceSpec {
  id: string;
  model: string;
  fw: string;
  kind: SimKind;
  /** average main events per minute (default from the catalog) */
  ratePerMin?: number;
}

/** How long a simulated device waits for an ack before retransmitting, and how many unacked frames it keeps. */
export const RETRANSMIT_MS = 2000;
export const MAX_UNACKED = 64;
const HEARTBEAT_MS = 30_000;

type DataFrame = Extract<DeviceFrame, { type: 'reading' | 'event' | 'heartbeat' | 'consent' | 'firmware-choice' }>;

/**
 * A simulated ESP32 running our firmware, transport-free: it produces real frames on a schedule, keeps unacked
 * frames for retransmission, honours consent-state (stops sampling withheld categories: privacy at the source)
 * and answers commands with acks, like the real firmware. Deterministic for a given rng.
 */
export class SimDevice {
  readonly desc: SimDeviceDescription;
  private seq = 0;
  private started = false;
  private nextEventAt = 0;
  private readonly nextReadingAt: number[] = [];
  private nextHeartbeatAt = 0;
  private presenceOpen = false;
  private paused = false;
  private bootAt = 0;
  private lastNow = 0;
  private readonly withheld = new Set<string>();
  private readonly pending = new Map<number, { frame: DataFrame; sentAt: number }>();
  readonly notifications: Array<Record<string, unknown>> = [];
  identifyCount = 0;
  /** the version the gateway said is pending for this device (command `update`), until a reboot */
  updatePending: string | null = null;
  /** unacked frames pushed out of the full retransmit buffer: lost on the device side, never retransmitted */
  evicted = 0;
  /** a reboot command was acked: the transport restarts the device once the ack has left (takeReboot) */
  private rebootRequested = false;
  /**
   * Like the firmware, at first boot and after every reboot nothing is sampled until the gateway's consent-state
   * answers the hello: privacy at the source, default deny.
   */
  private awaitingConsentState = true;
  reboots = 0;

  constructor(
    readonly spec: SimDeviceSpec,
    private readonly rng: () => number = Math.random,
  ) {
    this.desc = DEVICE_CATALOG[spec.kind];
    if (!this.desc) throw new Error(`unknown simulated device kind "${spec.kind}"`);
  }

  get channels(): ChannelInfo[] {
    return this.desc.channels;
  }

  get ratePerMin(): number {
    return this.spec.ratePerMin ?? this.desc.defaultRatePerMin;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  /** Sets the next seq the device will use (tests of the 16-bit wrap). */
  setSeq(seq: number): void {
    this.seq = (seq - 1) & 0xffff;
  }

  helloFrame(): DeviceFrame {
    const body = { id: this.spec.id, fw: this.spec.fw, model: this.spec.model, ch: this.desc.channels, cap: [CAP_UPDATE] };
    return { type: 'hello', seq: 0, body };
  }

  /** The hello frame, decoded form (BLE form; wrap with COBS for serial). */
  hello(): Uint8Array {
    return encodeFrame(this.helloFrame());
  }

  private categoryOf(ch: number): string | undefined {
    return this.desc.channels.find((c) => c.n === ch)?.c;
  }

  private allowed(ch: number): boolean {
    const c = this.categoryOf(ch);
    return c !== undefined && !this.withheld.has(c);
  }

  private exp(ratePerMs: number): number {
    return -Math.log(1 - this.rng()) / ratePerMs;
  }

  private value(base: number, spread: number): number {
    return Math.round((base + (this.rng() * 2 - 1) * spread) * 100) / 100;
  }

  private emit(out: DeviceFrame[], frame: DataFrame, now: number): void {
    out.push(frame);
    if (frame.type === 'heartbeat') return; // heartbeats are not acked
    this.pending.set(frame.seq, { frame, sentAt: now });
    if (this.pending.size > MAX_UNACKED) {
      this.pending.delete(this.pending.keys().next().value as number);
      this.evicted++;
    }
  }

  /** Frames due since the previous call: readings, events, heartbeats and retransmissions. */
  next(now: number): DeviceFrame[] {
    const out: DeviceFrame[] = [];
    const rate = this.ratePerMin / 60_000;
    if (!this.started) {
      this.started = true;
      this.lastNow = now;
      this.bootAt = now;
      this.nextEventAt = rate > 0 ? now + this.exp(rate) : Infinity;
      this.desc.readings.forEach((r, i) => (this.nextReadingAt[i] = now + this.rng() * r.periodMs));
      this.nextHeartbeatAt = now + HEARTBEAT_MS;
      return out;
    }
    this.lastNow = now;
    // Retransmit what was not acked in time (the gateway acks only once durable).
    for (const [, p] of this.pending) {
      if (now - p.sentAt >= RETRANSMIT_MS) {
        p.sentAt = now;
        out.push(p.frame);
      }
    }
    if (now >= this.nextHeartbeatAt) {
      this.nextHeartbeatAt = now + HEARTBEAT_MS;
      this.emit(out, { type: 'heartbeat', seq: this.nextSeq(), body: { up: Math.floor((now - this.bootAt) / 1000), rssi: -40 - Math.floor(this.rng() * 30) } }, now);
    }
    if (this.paused || this.awaitingConsentState) {
      // Paused devices sample nothing; schedules slide forward so resuming does not burst.
      this.nextEventAt = Math.max(this.nextEventAt, now);
      this.desc.readings.forEach((_r, i) => (this.nextReadingAt[i] = Math.max(this.nextReadingAt[i], now)));
      return out;
    }
    this.desc.readings.forEach((r, i) => {
      while (this.nextReadingAt[i] <= now) {
        const t = this.nextReadingAt[i];
        this.nextReadingAt[i] += r.periodMs;
        if (!this.allowed(r.ch)) continue;
        this.emit(out, { type: 'reading', seq: this.nextSeq(), body: { readings: [{ ch: r.ch, v: this.value(r.base, r.spread), t: Math.floor(t) % 2 ** 32 }] } }, now);
      }
    });
    while (this.nextEventAt <= now) {
      this.nextEventAt += this.exp(rate);
      const f = this.drawEvent();
      if (f && this.allowed(f.ch)) {
        const body: { e: string; ch: number; v?: number } = { e: f.e, ch: f.ch };
        if (f.v) body.v = this.value(f.v.base, f.v.spread);
        this.emit(out, { type: 'event', seq: this.nextSeq(), body }, now);
      }
    }
    return out;
  }

  private drawEvent(): { e: string; ch: number; v?: { base: number; spread: number } } | null {
    const p = this.desc.paired;
    if (p) {
      this.presenceOpen = !this.presenceOpen;
      return { e: this.presenceOpen ? p.start : p.end, ch: p.ch };
    }
    const total = this.desc.events.reduce((s, e) => s + e.weight, 0);
    if (total === 0) return null;
    let x = this.rng() * total;
    for (const e of this.desc.events) {
      x -= e.weight;
      if (x < 0) return e;
    }
    return this.desc.events[this.desc.events.length - 1];
  }

  /** The device's own privacy button (0x04). */
  pressPrivacy(s: string, granted: boolean, now = this.lastNow): DeviceFrame {
    const frame: DataFrame = { type: 'consent', seq: this.nextSeq(), body: { s, g: granted } };
    this.pending.set(frame.seq, { frame, sentAt: now });
    return frame;
  }

  /**
   * The household's say on a pending firmware update from the device's button (0x06): kept until acked, like
   * the privacy button's frame. `never` forgets the pending update (nothing to show any more).
   */
  pressFirmwareChoice(d: FirmwareChoice, h?: number, now = this.lastNow): DeviceFrame {
    const frame: DataFrame = { type: 'firmware-choice', seq: this.nextSeq(), body: h === undefined ? { d } : { d, h } };
    this.pending.set(frame.seq, { frame, sentAt: now });
    if (d === 'never') this.updatePending = null;
    return frame;
  }

  /** Reacts to a gateway frame; returns the frames the device sends back (acks for commands). */
  onGatewayFrame(f: GatewayFrame): DeviceFrame[] {
    switch (f.type) {
      case 'ack':
        this.pending.delete(f.body.a);
        return [];
      case 'consent-state':
        this.awaitingConsentState = false;
        for (const [cat, ok] of Object.entries(f.body.cats)) {
          if (ok) this.withheld.delete(cat);
          else this.withheld.add(cat);
        }
        return [];
      case 'command': {
        const c = f.body.c;
        if (c === 'pause') this.paused = true;
        else if (c === 'resume') this.paused = false;
        else if (c === 'identify') this.identifyCount++;
        else if (c === 'notify') this.notifications.push({ ...f.body });
        else if (c === 'reboot') this.rebootRequested = true;
        else if (c === 'update') this.updatePending = String(f.body.v);
        return [{ type: 'ack', seq: this.nextSeq(), body: { a: f.seq } }];
      }
    }
  }

  /** Whether a reboot was asked for (once): the caller then calls reboot() after the ack is on the wire. */
  takeReboot(): boolean {
    const r = this.rebootRequested;
    this.rebootRequested = false;
    return r;
  }

  /**
   * What the firmware's esp_restart() leaves: everything in RAM is gone (unacked frames, pause, consent
   * categories), seq starts again after the hello's 0, and nothing is sampled until a consent-state arrives.
   */
  reboot(): void {
    this.seq = 0;
    this.pending.clear();
    this.started = false;
    this.paused = false;
    this.presenceOpen = false;
    this.withheld.clear();
    this.updatePending = null;
    this.awaitingConsentState = true;
    this.reboots++;
  }

  unacked(): DeviceFrame[] {
    return [...this.pending.values()].map((p) => p.frame);
  }

  isWithheld(category: string): boolean {
    return this.withheld.has(category);
  }

  get isPaused(): boolean {
    return this.paused;
  }
}
