import {
  decodeGatewayFrame,
  encodeBody,
  encodeFrame,
  type ChannelInfo,
  type DeviceFrame,
  type GatewayFrame,
} from '../../../firmware-bridge/protocol';
import { FIRMWARE_GATT } from '../../../drivers/ble/gatt-uuids';
import { SimGattError, type SimCharacteristic, type SimPeripheral, type SimService } from './sim-peripheral';

export interface Esp32PeripheralOptions {
  address: string;
  id: string;
  model?: string;
  fw?: string;
  channels?: ChannelInfo[];
  /** readings per second on channel 1 */
  rateHz?: number;
  /** stop sampling after this many readings (tests count exactly) */
  limit?: number;
  /** an unacked frame is sent again after this long while connected */
  retransmitMs?: number;
  /** downlink accepts only write-without-response (some ESP32 stacks) */
  writeWithoutResponseOnly?: boolean;
  /** downlink lists both write flags but the stack refuses write requests (seen on some NimBLE builds) */
  refuseWriteRequests?: boolean;
  rssi?: number;
}

type DataFrame = Extract<DeviceFrame, { type: 'reading' | 'event' | 'consent' }>;

/**
 * Our ESP32 firmware's GATT side, as the simulator's radio: protocol frames on the uplink characteristic (one
 * per notification, no COBS), gateway frames written to downlink, the CBOR hello body on info. Like the
 * firmware it keeps every data frame until the gateway acks it and sends it again after `retransmitMs` (and
 * at once after a reconnect), notifies its hello once after each boot, honours consent-state and acks commands.
 */
export class Esp32Peripheral implements SimPeripheral {
  readonly address: string;
  readonly name: string;
  readonly rssi: number;
  readonly uuids = [FIRMWARE_GATT.service];
  readonly services: SimService[];
  readonly received: GatewayFrame[] = [];
  readonly acked = new Set<number>();
  /** seqs of every data frame produced (a frame is produced once, however often it is sent) */
  readonly produced: number[] = [];
  sent = 0;
  retransmissions = 0;
  badWrites = 0;
  writeTypes: string[] = [];
  private readonly pending = new Map<number, { frame: DataFrame; sentAt: number }>();
  /** every data frame by seq, so "lost acks" can be replayed with identical bytes */
  private readonly sentFrames = new Map<number, DataFrame>();
  private readonly withheld = new Set<string>();
  private readonly uplink: SimCharacteristic;
  private seq = 0;
  private connected = false;
  private notifying = false;
  private helloDue = true;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private readonly channels: ChannelInfo[];
  identifyCount = 0;

  constructor(private readonly opts: Esp32PeripheralOptions) {
    this.address = opts.address.toUpperCase();
    this.name = `edge-${opts.id}`;
    this.rssi = opts.rssi ?? -58;
    this.channels = opts.channels ?? [
      { n: 1, k: 'temperature', c: 'environment' },
      { n: 2, k: 'event', c: 'usage' },
    ];
    this.uplink = {
      uuid: FIRMWARE_GATT.uplink,
      flags: ['notify'],
      onNotifying: (on) => {
        this.notifying = on;
        if (on && this.helloDue) {
          this.helloDue = false;
          this.uplink.notify?.(encodeFrame(this.helloFrame()));
        }
        if (on) this.flush();
      },
    };
    const downlink: SimCharacteristic = {
      uuid: FIRMWARE_GATT.downlink,
      flags: opts.writeWithoutResponseOnly ? ['write-without-response'] : ['write', 'write-without-response'],
      write: (value, type) => {
        if (opts.refuseWriteRequests && type !== 'command') throw new SimGattError('org.bluez.Error.NotSupported', 'Operation is not supported');
        this.writeTypes.push(type);
        this.onDownlink(value);
      },
    };
    const info: SimCharacteristic = { uuid: FIRMWARE_GATT.info, flags: ['read'], read: () => encodeBody(this.helloFrame().body) };
    this.services = [{ uuid: FIRMWARE_GATT.service, characteristics: [this.uplink, downlink, info] }];
  }

  helloFrame(): Extract<DeviceFrame, { type: 'hello' }> {
    return { type: 'hello', seq: 0, body: { id: this.opts.id, fw: this.opts.fw ?? '3.0.0-ble', model: this.opts.model ?? 'fridge-door', ch: this.channels } };
  }

  onConnection(connected: boolean): void {
    this.connected = connected;
    if (!connected) this.notifying = false;
  }

  /** Starts sampling (the device is powered; it samples whether or not a gateway is connected). */
  start(): void {
    if (this.timer) return;
    this.startedAt = Date.now();
    const rate = this.opts.rateHz ?? 10;
    this.timer = setInterval(() => this.tick(rate), Math.max(10, Math.min(100, Math.floor(1000 / rate))));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Power cycle: RAM is gone (unacked frames, counters), sequence numbers start again, and sampling restarts,
   * so the new boot's frames repeat the old boot's bytes seq for seq; the hello is notified after the next
   * subscription.
   */
  reboot(): void {
    this.stop();
    this.pending.clear();
    this.sentFrames.clear();
    this.acked.clear();
    this.produced.length = 0;
    this.seq = 0;
    this.helloDue = true;
  }

  /**
   * Acks lost in the air: the last `n` acked frames count as unacked again, so the device retransmits frames
   * the gateway has already stored. Returns their seqs.
   */
  loseLastAcks(n: number): number[] {
    const lost: number[] = [];
    for (const seq of [...this.acked].slice(-n)) {
      const frame = this.sentFrames.get(seq);
      if (!frame) continue;
      this.acked.delete(seq);
      this.pending.set(seq, { frame, sentAt: 0 });
      lost.push(seq);
    }
    return lost;
  }

  unacked(): number {
    return this.pending.size;
  }

  /** Sends raw bytes as one notification (garbage tests). */
  notifyRaw(bytes: Uint8Array): boolean {
    return this.uplink.notify?.(bytes) ?? false;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private tick(rate: number): void {
    const due = Math.floor(((Date.now() - this.startedAt) * rate) / 1000);
    const limit = this.opts.limit ?? Infinity;
    while (this.produced.length < Math.min(due, limit)) {
      if (this.withheld.has(this.channels[0].c)) {
        this.produced.push(-1); // a sample not taken: privacy at the source
        continue;
      }
      const seq = this.nextSeq();
      const frame: DataFrame = { type: 'reading', seq, body: { readings: [{ ch: 1, v: 20 + (seq % 50) / 10, t: seq * 100 }] } }; // t: unique per frame, so stored rows can be checked for duplicates
      this.produced.push(seq);
      this.pending.set(seq, { frame, sentAt: 0 });
      this.sentFrames.set(seq, frame);
    }
    this.flush();
  }

  /** Sends what was never sent or not acked in time, oldest first, a bounded number per tick. */
  private flush(): void {
    if (!this.connected || !this.notifying) return;
    const now = Date.now();
    const retransmitMs = this.opts.retransmitMs ?? 2000; // the reference firmware's EDGE_SESSION_RETRANSMIT_MS
    let budget = 64;
    for (const p of this.pending.values()) {
      if (budget === 0) break;
      if (p.sentAt !== 0 && now - p.sentAt < retransmitMs) continue;
      if (!this.uplink.notify?.(encodeFrame(p.frame))) return;
      if (p.sentAt !== 0) this.retransmissions++;
      else this.sent++;
      p.sentAt = now;
      budget--;
    }
  }

  private onDownlink(value: Uint8Array): void {
    let f: GatewayFrame;
    try {
      f = decodeGatewayFrame(value);
    } catch {
      this.badWrites++;
      return;
    }
    this.received.push(f);
    switch (f.type) {
      case 'ack':
        if (this.pending.delete(f.body.a)) this.acked.add(f.body.a);
        return;
      case 'consent-state':
        for (const [cat, ok] of Object.entries(f.body.cats)) {
          if (ok) this.withheld.delete(cat);
          else this.withheld.add(cat);
        }
        return;
      case 'command':
        if (f.body.c === 'identify') this.identifyCount++;
        this.uplink.notify?.(encodeFrame({ type: 'ack', seq: this.nextSeq(), body: { a: f.seq } }));
        return;
    }
  }
}
