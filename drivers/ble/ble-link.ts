import type * as NodeBle from 'node-ble';
import type { GatewayFrame } from '../../firmware-bridge/protocol';
import { Backoff } from '../backoff';
import type { FrameSink } from '../types';
import { bluezErrorName, bluezErrorText, bluezProp, releaseSignals, withTimeout } from './bluez-access';
import type { GattSession } from './gatt-session';

/** What a link needs from the driver: the adapter when it is usable, and the adapter-wide connect slot. */
export interface LinkContext {
  adapter(): NodeBle.Adapter | null;
  /** why the adapter is not usable now (shown as the link detail) */
  adapterState(): string;
  /** waits for a connect slot (one LE connection set-up at a time per adapter); call the result to give it back */
  connectSlot(): Promise<() => void>;
  timeoutMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class LinkAborted extends Error {}

/**
 * One allow-listed BLE device: connects through BlueZ, waits for the GATT table, opens its session (our frame
 * channel or a sensor mapping), and after a link loss or a failed attempt tries again with backoff. Exactly one
 * attempt runs at a time; every attempt has its own generation, so a late event from an old connection never
 * touches the current one, and the node-ble objects of each connection are released when it ends (node-ble
 * leaves PropertiesChanged subscriptions behind otherwise, one more per reconnect).
 */
export class BleLink {
  private stopped = false;
  private attempting = false;
  private generation = 0;
  private attemptGen = -1;
  private retry: NodeJS.Timeout | null = null;
  private device: NodeBle.Device | null = null;
  private tracked: NodeBle.GattCharacteristic[] = [];
  /** the last attempt found no such device object: BlueZ has not seen it (discovery will) */
  notSeen = false;
  connected = false;
  state = 'not started';
  connects = 0;
  linkLosses = 0;
  failures = 0;
  inProgressRetries = 0;
  rssi: number | null = null;

  constructor(
    readonly id: string,
    readonly address: string,
    readonly session: GattSession,
    private readonly ctx: LinkContext,
    private readonly sink: FrameSink,
    private readonly backoff: Backoff = new Backoff(250, 10_000),
  ) {}

  get busy(): boolean {
    return this.attempting;
  }

  /** Tries to connect now unless connected or already trying; `fresh` forgets the backoff (adapter came back). */
  kick(fresh = false): void {
    if (this.stopped || this.connected) return;
    if (fresh) this.backoff.reset();
    if (this.attempting && this.attemptGen === this.generation) return; // a live attempt reports on its own
    if (this.retry) clearTimeout(this.retry);
    this.fire();
  }

  send(frame: GatewayFrame): boolean {
    return this.session.send(frame);
  }

  private setState(connected: boolean, detail: string): void {
    const changed = connected !== this.connected || detail !== this.state;
    this.connected = connected;
    this.state = detail;
    if (changed) this.sink.onLink(this.id, connected, detail);
  }

  private schedule(reason: string): void {
    if (this.stopped || this.retry) return;
    const delay = this.backoff.next();
    this.setState(false, `${reason}; retry in ${(delay / 1000).toFixed(1)} s`);
    this.retry = setTimeout(() => this.fire(), delay);
  }

  /** A retry is due; an aborted attempt may still be unwinding, in which case it is tried again shortly. */
  private fire(): void {
    this.retry = null;
    if (this.attempting) this.retry = setTimeout(() => this.fire(), 50);
    else void this.attempt();
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.attempting || this.connected) return;
    const adapter = this.ctx.adapter();
    if (!adapter) {
      this.setState(false, this.ctx.adapterState()); // the driver kicks every link when the adapter is back
      return;
    }
    this.attempting = true;
    const gen = ++this.generation;
    this.attemptGen = gen;
    const check = (): void => {
      if (gen !== this.generation || this.stopped) throw new LinkAborted();
    };
    let connectedAtBluez = false;
    let device: NodeBle.Device | null = null;
    const objects: NodeBle.GattCharacteristic[] = [];
    try {
      try {
        device = await withTimeout(adapter.getDevice(this.address), this.ctx.timeoutMs, 'looking up the device');
      } catch (err) {
        if (bluezErrorText(err) === 'Device not found') {
          this.notSeen = true;
          throw new Error('not seen by the adapter yet (scanning)');
        }
        throw err;
      }
      this.notSeen = false;
      check();
      this.device = device;
      this.tracked = objects;
      device.on('disconnect', () => this.lost(gen, 'link lost'));
      this.setState(false, 'connecting');
      const release = await this.ctx.connectSlot();
      try {
        check();
        await withTimeout(device.connect(), this.ctx.timeoutMs, 'Connect');
        connectedAtBluez = true;
      } catch (err) {
        const name = bluezErrorName(err);
        if (/AlreadyConnected/.test(name)) connectedAtBluez = true;
        else if (/InProgress/.test(name)) {
          // Someone (another client, or BlueZ's own auto-connect) is connecting this device right now.
          this.inProgressRetries++;
          throw new Error('connection already in progress at BlueZ');
        } else throw err;
      } finally {
        release();
      }
      check();
      await this.servicesResolved(device, check);
      const gatt = await withTimeout(device.gatt(), this.ctx.timeoutMs, 'resolving GATT services');
      check();
      const rssi = await bluezProp(device, 'RSSI');
      this.rssi = typeof rssi === 'number' ? rssi : null;
      await this.trackAll(gatt, objects);
      const detail = await this.session.open(gatt);
      check();
      this.connects++;
      this.backoff.reset();
      this.setState(true, detail);
    } catch (err) {
      if (err instanceof LinkAborted) {
        // The connection died (or the adapter went) while this attempt was setting it up: whatever it
        // subscribed to after the teardown is released here, so nothing of it outlives the attempt.
        if (this.attemptGen === gen && !this.connected) this.session.close();
        for (const c of objects) releaseSignals(c);
        if (device) releaseSignals(device);
        return;
      }
      this.failures++;
      this.teardown();
      if (connectedAtBluez) void this.disconnectQuietly(gen); // e.g. the wrong GATT table: do not hold the link
      this.schedule(err instanceof Error && !('type' in err) ? err.message : bluezErrorText(err));
    } finally {
      this.attempting = false;
    }
  }

  /**
   * node-ble subscribes to PropertiesChanged for every characteristic of every service while building the
   * GATT server object; all of them are released when this connection ends, not only the ones we use.
   */
  private async trackAll(gatt: NodeBle.GattServer, into: NodeBle.GattCharacteristic[]): Promise<void> {
    for (const uuid of await gatt.services()) {
      const service = await gatt.getPrimaryService(uuid);
      for (const c of await service.characteristics()) into.push(await service.getCharacteristic(c));
    }
  }

  /** BlueZ resolves the GATT table after Connect returns; node-ble's own wait has no timeout and leaks a listener. */
  private async servicesResolved(device: NodeBle.Device, check: () => void): Promise<void> {
    const deadline = Date.now() + this.ctx.timeoutMs;
    for (;;) {
      if ((await bluezProp(device, 'ServicesResolved')) === true) return;
      check();
      if ((await bluezProp(device, 'Connected')) === false) throw new Error('link dropped while resolving services');
      if (Date.now() > deadline) throw new Error(`GATT services not resolved within ${this.ctx.timeoutMs} ms`);
      await sleep(25);
    }
  }

  private lost(gen: number, reason: string): void {
    if (gen !== this.generation || this.stopped) return;
    this.generation++; // whatever the current attempt awaits belongs to a dead connection now
    const wasConnected = this.connected;
    this.teardown();
    if (wasConnected) this.linkLosses++;
    this.connected = false;
    this.schedule(reason);
  }

  /** The adapter went away or was powered off: every link is down, retried when the driver kicks. */
  adapterDown(reason: string): void {
    this.generation++;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.connected) this.linkLosses++;
    this.teardown();
    this.setState(false, reason);
  }

  private teardown(): void {
    this.session.close();
    for (const c of this.tracked) releaseSignals(c);
    this.tracked = [];
    if (this.device) releaseSignals(this.device);
    this.device = null;
  }

  private async disconnectQuietly(gen: number): Promise<void> {
    const adapter = this.ctx.adapter();
    if (!adapter) return;
    try {
      const d = await withTimeout(adapter.getDevice(this.address), this.ctx.timeoutMs, 'lookup');
      if (gen === this.generation) await withTimeout(d.disconnect(), this.ctx.timeoutMs, 'Disconnect');
      releaseSignals(d);
    } catch {
      // best effort: the next attempt copes with a device BlueZ still has connected (AlreadyConnected)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const device = this.device;
    this.session.close();
    if (device && this.connected) {
      try {
        await withTimeout(device.disconnect(), this.ctx.timeoutMs, 'Disconnect');
      } catch {
        // bluetoothd gone or the link already down: nothing to release at BlueZ
      }
    }
    this.teardown();
    this.connected = false;
  }
}
