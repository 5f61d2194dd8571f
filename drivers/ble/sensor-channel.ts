import type * as NodeBle from 'node-ble';
import { ProtocolError, type ChannelInfo, type DeviceFrame, type GatewayFrame, type Reading } from '../../firmware-bridge/protocol';
import type { FrameSink } from '../types';
import { bluezErrorText, withTimeout } from './bluez-access';
import type { BleDeviceSpec, SensorCharacteristicSpec } from './ble-device-spec';
import { CharacteristicDecoder, type ScriptedDecode } from './characteristic-decoder';
import { GattSessionError, type GattSession } from './gatt-session';

interface Mapped {
  spec: SensorCharacteristicSpec;
  decoder: CharacteristicDecoder;
  short: string;
}

const shortUuid = (uuid: string): string => (uuid.endsWith('-0000-1000-8000-00805f9b34fb') && uuid.startsWith('0000') ? uuid.slice(4, 8) : uuid);

/**
 * A third-party BLE sensor mapped by config (the ThingsBoard BLE connector's model): each configured
 * characteristic is subscribed (`notify`) or polled (`read`), its value decoded, and the numbers enter the
 * pipeline as protocol frames — a hello synthesised from the config's channels and categories, then readings
 * and events — so consent by category is enforced before storage exactly as for our own devices.
 */
export class SensorChannel implements GattSession {
  private readonly mapped: Mapped[];
  private seq = 0;
  private helloSent = false;
  private timers: NodeJS.Timeout[] = [];
  private open_ = false;
  decoded = 0;
  decodeErrors = 0;

  constructor(
    private readonly device: BleDeviceSpec & { sensor: NonNullable<BleDeviceSpec['sensor']> },
    private readonly sink: FrameSink,
    scripted: ScriptedDecode | null,
    private readonly timeoutMs: number,
  ) {
    this.mapped = device.sensor.characteristics.map((spec) => ({ spec, decoder: new CharacteristicDecoder(spec.decoder, scripted), short: shortUuid(spec.uuid) }));
  }

  private hello(): Extract<DeviceFrame, { type: 'hello' }> {
    const ch: ChannelInfo[] = this.device.sensor.characteristics.flatMap((c) => c.channels.map((x) => ({ n: x.n, k: x.kind, c: x.category })));
    return { type: 'hello', seq: 0, body: { id: this.device.id, fw: 'third-party', model: this.device.sensor.model, ch } };
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private emit(frame: DeviceFrame): void {
    // Nothing to ack on a third-party sensor: replies (acks, consent-state) have no characteristic to go to.
    this.sink.onFrame(this.device.id, frame, () => undefined);
  }

  private bad(message: string): void {
    this.decodeErrors++;
    this.sink.onBadFrame(this.device.id, new ProtocolError('field', message));
  }

  private async find(gatt: NodeBle.GattServer, spec: SensorCharacteristicSpec): Promise<NodeBle.GattCharacteristic | null> {
    const services = spec.service ? [spec.service] : await gatt.services();
    for (const s of services) {
      try {
        return await (await gatt.getPrimaryService(s)).getCharacteristic(spec.uuid);
      } catch {
        // not in this service
      }
    }
    return null;
  }

  async open(gatt: NodeBle.GattServer): Promise<string> {
    const found: Array<{ m: Mapped; c: NodeBle.GattCharacteristic }> = [];
    const missing: string[] = [];
    for (const m of this.mapped) {
      const c = await this.find(gatt, m.spec);
      if (c) found.push({ m, c });
      else missing.push(m.short);
    }
    if (found.length === 0) throw new GattSessionError(`none of the configured characteristics found (${missing.join(', ')})`);
    for (const u of missing) this.bad(`characteristic ${u} not found on the device`);
    if (!this.helloSent) {
      this.helloSent = true;
      this.emit(this.hello());
    }
    this.open_ = true;
    for (const { m, c } of found) {
      if (m.spec.mode === 'notify') {
        c.on('valuechanged', (v: Buffer) => this.onValue(m, v));
        await withTimeout(c.startNotifications(), this.timeoutMs, `subscribing to ${m.short}`);
      } else {
        let busy = false;
        const poll = (): void => {
          if (busy || !this.open_) return;
          busy = true;
          withTimeout(c.readValue(), this.timeoutMs, `reading ${m.short}`)
            .then((v) => this.onValue(m, v))
            .catch((err: unknown) => {
              if (this.open_) this.bad(`reading ${m.short} failed: ${bluezErrorText(err)}`);
            })
            .finally(() => (busy = false));
        };
        poll();
        const t = setInterval(poll, m.spec.pollMs);
        t.unref();
        this.timers.push(t);
      }
    }
    return `connected: ${this.device.sensor.model}, ${found.length} characteristic${found.length > 1 ? 's' : ''}${missing.length ? `, missing ${missing.join(', ')}` : ''}`;
  }

  private onValue(m: Mapped, value: Buffer): void {
    if (!this.open_) return;
    const out = m.decoder.decode(new Uint8Array(value), { deviceName: this.device.id, deviceType: this.device.sensor.model, characteristic: m.spec.uuid });
    if (!out.ok) return this.bad(`${m.short}: ${out.error}`);
    const readings: Reading[] = [];
    for (const ch of m.spec.channels) {
      const v = out.value.values[ch.key];
      if (typeof v === 'number' && Number.isFinite(v)) readings.push({ ch: ch.n, v });
    }
    if (readings.length === 0 && out.value.events.length === 0) {
      return this.bad(`${m.short}: decoder returned none of ${m.spec.channels.map((c) => c.key).join(', ')}`);
    }
    this.decoded++;
    if (readings.length > 0) this.emit({ type: 'reading', seq: this.nextSeq(), body: { readings } });
    for (const e of out.value.events) this.emit({ type: 'event', seq: this.nextSeq(), body: { e, ch: m.spec.channels[0].n } });
  }

  close(): void {
    this.open_ = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  send(_frame: GatewayFrame): boolean {
    return false; // third-party sensors take no protocol frames
  }
}
