import type * as NodeBle from 'node-ble';
import {
  ProtocolError,
  decodeBody,
  encodeFrame,
  frameFromBody,
  type DeviceFrame,
  type GatewayFrame,
} from '../../firmware-bridge/protocol';
import { DeviceInput } from '../device-input';
import type { FrameSink } from '../types';
import { AckedFrames, frameHash } from './acked-frames';
import { bluezErrorName, bluezErrorText, withTimeout } from './bluez-access';
import { FIRMWARE_GATT } from './gatt-uuids';
import { GattSessionError, type GattSession } from './gatt-session';

/** Writes waiting for the downlink; beyond this the device is not keeping up and acks are skipped (it retransmits). */
const MAX_QUEUED_WRITES = 256;

type Hello = Extract<DeviceFrame, { type: 'hello' }>;

const asProtocolError = (err: unknown): ProtocolError =>
  err instanceof ProtocolError ? err : new ProtocolError('cbor', err instanceof Error ? err.message : String(err));

/**
 * Our firmware's GATT service (DESIGN §3): every uplink notification is one decoded protocol frame, every
 * downlink write one gateway frame, the info characteristic holds the CBOR hello body. Writes go one at a time
 * (BlueZ queues badly under concurrent writes to one characteristic), with response when the characteristic
 * allows it, otherwise — or when BlueZ refuses it — without.
 */
export class GattFrameChannel implements GattSession {
  private downlink: NodeBle.GattCharacteristic | null = null;
  private writeType: 'request' | 'command' = 'request';
  private canFallBack = false;
  private readonly queue: Array<{ frame: GatewayFrame; bytes: Buffer }> = [];
  private writing = false;
  private open_ = false;
  /** bumped at every close: a write that finishes after its connection ended must not touch the next one's queue */
  private connection = 0;
  private readonly acked = new AckedFrames();
  /** uplink notifications: the transports' one decode path */
  private readonly input: DeviceInput;
  /** the latest consent-state the gateway sent: repeated after a reconnect that brought no hello */
  private consentState: Extract<GatewayFrame, { type: 'consent-state' }> | null = null;
  writes = 0;
  writeErrors = 0;
  writesWithoutResponse = 0;
  acksSkipped = 0;
  lastWriteError: string | null = null;

  constructor(
    private readonly deviceId: string,
    private readonly sink: FrameSink,
    private readonly timeoutMs: number,
  ) {
    this.input = new DeviceInput(deviceId, sink, (frame, raw) => {
      if (frame.type === 'hello') this.acked.clear(); // a hello on uplink means the device booted: its seqs restart
      this.deliver(frame, raw);
    });
  }

  get retransmissionsAnswered(): number {
    return this.acked.suppressed;
  }

  async open(gatt: NodeBle.GattServer): Promise<string> {
    let service: NodeBle.GattService;
    try {
      service = await gatt.getPrimaryService(FIRMWARE_GATT.service);
    } catch {
      throw new GattSessionError(`no edge-agent GATT service ${FIRMWARE_GATT.service} on the device`);
    }
    const characteristic = async (uuid: string, what: string): Promise<NodeBle.GattCharacteristic> => {
      try {
        return await service.getCharacteristic(uuid);
      } catch {
        throw new GattSessionError(`edge-agent service lacks the ${what} characteristic ${uuid}`);
      }
    };
    const uplink = await characteristic(FIRMWARE_GATT.uplink, 'uplink');
    const downlink = await characteristic(FIRMWARE_GATT.downlink, 'downlink');
    const info = await characteristic(FIRMWARE_GATT.info, 'info');

    const flags = await withTimeout(downlink.getFlags(), this.timeoutMs, 'reading downlink flags');
    const withResponse = flags.includes('write');
    const withoutResponse = flags.includes('write-without-response');
    if (!withResponse && !withoutResponse) throw new GattSessionError('downlink characteristic is not writable');
    this.writeType = withResponse ? 'request' : 'command';
    this.canFallBack = withResponse && withoutResponse;

    // Reading info first means the pipeline knows the channels before the first notification arrives.
    const hello = await this.readHello(info);
    this.downlink = downlink;
    this.open_ = true;
    if (hello) this.deliver(hello, null);
    else if (this.consentState) this.send(this.consentState);
    uplink.on('valuechanged', (value: Buffer) => this.onNotification(value));
    await withTimeout(uplink.startNotifications(), this.timeoutMs, 'subscribing to uplink');
    return hello ? `connected: ${hello.body.model} fw ${hello.body.fw}` : 'connected';
  }

  private async readHello(info: NodeBle.GattCharacteristic): Promise<Hello | null> {
    let bytes: Buffer;
    try {
      bytes = await withTimeout(info.readValue(), this.timeoutMs, 'reading info');
    } catch (err) {
      // Not fatal: the firmware also notifies its hello; count it so a broken info characteristic shows.
      this.sink.onBadFrame(this.deviceId, new ProtocolError('field', `info characteristic unreadable: ${bluezErrorText(err)}`));
      return null;
    }
    try {
      return frameFromBody('hello', 0, decodeBody(bytes)) as Hello;
    } catch (err) {
      this.sink.onBadFrame(this.deviceId, asProtocolError(err));
      return null;
    }
  }

  close(): void {
    this.connection++;
    this.open_ = false;
    this.downlink = null;
    this.queue.length = 0;
  }

  private onNotification(value: Buffer): void {
    if (this.open_) this.input.datagram(value);
  }

  private deliver(frame: DeviceFrame, bytes: Uint8Array | null): void {
    if (bytes && (frame.type === 'reading' || frame.type === 'event' || frame.type === 'consent')) {
      const hash = frameHash(bytes);
      const repeat = this.acked.repeatAck(frame.seq, hash);
      if (repeat) {
        this.send(repeat);
        return;
      }
      if (this.acked.stillCommitting(frame.seq, hash)) return;
      this.acked.forwarded(frame.seq, hash);
    }
    this.sink.onFrame(this.deviceId, frame, (reply) => this.send(reply));
  }

  send(frame: GatewayFrame): boolean {
    if (frame.type === 'ack') this.acked.ackSent(frame);
    if (frame.type === 'consent-state') this.consentState = frame;
    if (!this.open_ || !this.downlink) return false;
    if (this.queue.length >= MAX_QUEUED_WRITES) {
      if (frame.type === 'ack') {
        this.acksSkipped++;
        return false;
      }
    }
    this.queue.push({ frame, bytes: Buffer.from(encodeFrame(frame)) });
    if (!this.writing) void this.drain();
    return true;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && this.downlink) {
        const { bytes } = this.queue[0];
        const downlink = this.downlink;
        const connection = this.connection;
        try {
          await withTimeout(downlink.writeValue(bytes, { type: this.writeType }), this.timeoutMs, 'downlink write');
          this.writes++;
          if (this.writeType === 'command') this.writesWithoutResponse++;
        } catch (err) {
          const name = bluezErrorName(err);
          if (this.canFallBack && this.writeType === 'request' && /NotSupported|NotPermitted|NotAuthorized/.test(name)) {
            this.writeType = 'command'; // the stack refuses write requests: use write commands from now on
            this.canFallBack = false;
            continue;
          }
          this.writeErrors++;
          this.lastWriteError = bluezErrorText(err);
        }
        if (connection !== this.connection) break;
        this.queue.shift();
      }
    } finally {
      this.writing = false;
    }
    if (this.queue.length > 0 && this.downlink) void this.drain();
  }
}
