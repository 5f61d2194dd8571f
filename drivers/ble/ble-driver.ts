import * as NodeBle from 'node-ble';
import type { GatewayFrame } from '../../firmware-bridge/protocol';
import { Backoff } from '../backoff';
import type { Driver, FrameSink } from '../types';
import { BleLink } from './ble-link';
import type { BleDeviceSpec } from './ble-device-spec';
import { bluezErrorName, bluezErrorText, bluezOwner, onBusError, signalListenerCount, withTimeout } from './bluez-access';
import type { ScriptedDecode } from './characteristic-decoder';
import { GattFrameChannel } from './gatt-frame-channel';
import type { GattSession } from './gatt-session';
import { SensorChannel } from './sensor-channel';

export interface BleDriverOptions {
  /** adapter name (hci0…); the first one BlueZ lists when absent */
  adapter?: string;
  /** how often the adapter, bluetoothd and the device list are checked */
  supervisionMs?: number;
  /** limit for each BlueZ call (Connect, reads, writes) */
  timeoutMs?: number;
  /** connection set-ups running at once on the adapter (controllers serialise LE connection creation) */
  maxConcurrentConnects?: number;
  reconnect?: { minMs: number; maxMs: number };
  /** runs `decoder:` scripts of third-party sensors (the agent's ScriptHost) */
  scripted?: ScriptedDecode;
  /** node-ble's factory (the system bus from DBUS_SYSTEM_BUS_ADDRESS); replaceable for nothing but tests of it */
  createBluetooth?: typeof NodeBle.createBluetooth;
}

export interface BleDriverStats {
  adapter: string | null;
  adapterState: string;
  /** addresses seen by the adapter that are not allow-listed (never connected) */
  ignoredDevices: number;
  discoveryStarts: number;
  supervisionErrors: number;
  lastError: string | null;
  links: Array<{
    id: string;
    address: string;
    connected: boolean;
    state: string;
    connects: number;
    linkLosses: number;
    failures: number;
    inProgressRetries: number;
  }>;
}

/**
 * BLE devices of the config over BlueZ (node-ble on D-Bus). Only allow-listed addresses are ever connected;
 * anything else the adapter sees is counted and left alone. A supervision loop follows the adapter: bluetoothd
 * restarting (a new owner of org.bluez), the adapter vanishing or being powered off take every link down, and
 * its return reconnects them at once. Discovery runs only while a configured device is missing from BlueZ's
 * device list, and is paused while a connection is being set up so scanning never starves connecting.
 */
export class BleDriver implements Driver {
  readonly name = 'ble';
  private readonly links = new Map<string, BleLink>();
  private readonly byAddress = new Map<string, BleLink>();
  private readonly ignored = new Set<string>();
  private bt: ReturnType<typeof NodeBle.createBluetooth> | null = null;
  private busBroken = false;
  private busError: string | null = null;
  /** rejects when the current bus connection fails (dbus-next leaves its pending calls hanging then) */
  private busFailed: Promise<never> = new Promise<never>(() => undefined);
  private owner: string | null = null;
  private adapter: NodeBle.Adapter | null = null;
  private adapterName: string | null = null;
  private ready = false;
  private adapterState = 'adapter not checked yet';
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private tickRun: Promise<void> | null = null;
  private stopped = false;
  private weDiscover = false;
  /** set while StartDiscovery is under way, so a connection set-up can wait for it and stop it */
  private discoveryStart: Promise<void> | null = null;
  private connectsInFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private discoveryStarts = 0;
  private supervisionErrors = 0;
  private lastError: string | null = null;
  private readonly timeoutMs: number;

  constructor(
    private readonly devices: readonly BleDeviceSpec[],
    private readonly opts: BleDriverOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  async start(sink: FrameSink): Promise<void> {
    this.stopped = false;
    const ctx = {
      adapter: () => (this.ready ? this.adapter : null),
      adapterState: () => this.adapterState,
      connectSlot: () => this.connectSlot(),
      timeoutMs: this.timeoutMs,
    };
    for (const d of this.devices) {
      const session: GattSession = d.sensor
        ? new SensorChannel({ ...d, sensor: d.sensor }, sink, this.opts.scripted ?? null, this.timeoutMs)
        : new GattFrameChannel(d.id, sink, this.timeoutMs);
      const r = this.opts.reconnect ?? { minMs: 250, maxMs: 10_000 };
      const link = new BleLink(d.id, d.address.toUpperCase(), session, ctx, sink, new Backoff(r.minMs, r.maxMs));
      this.links.set(d.id, link);
      this.byAddress.set(link.address, link);
      sink.onLink(d.id, false, 'waiting for the Bluetooth adapter');
    }
    // Not awaited: a missing or hung bus must not hold up the agent's start; the links report their state.
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.supervisionMs ?? 1000);
    this.timer.unref();
  }

  send(deviceId: string, frame: GatewayFrame): boolean {
    return this.links.get(deviceId)?.send(frame) ?? false;
  }

  link(deviceId: string): BleLink | undefined {
    return this.links.get(deviceId);
  }

  /** At most `maxConcurrentConnects` LE connection set-ups at once; a running discovery is stopped first (it slows connecting). */
  private async connectSlot(): Promise<() => void> {
    const max = this.opts.maxConcurrentConnects ?? 2;
    while (this.connectsInFlight >= max && !this.stopped) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.connectsInFlight++;
    // A discovery being started right now is let finish and then stopped: connecting waits for no scan.
    if (this.discoveryStart) await this.discoveryStart.catch(() => undefined);
    if (this.weDiscover) await this.stopDiscovery();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.connectsInFlight--;
      this.slotWaiters.shift()?.();
    };
  }

  private down(reason: string, keepAdapter = false): void {
    const was = this.ready;
    this.ready = false;
    this.adapterState = reason;
    this.weDiscover = false;
    if (!keepAdapter) this.adapter = null;
    if (was || [...this.links.values()].some((l) => l.state !== reason)) for (const l of this.links.values()) l.adapterDown(reason);
  }

  private bluetooth(): NodeBle.Bluetooth {
    if (this.bt && this.busBroken) {
      // The system bus connection died (dbus-daemon restart): start over with a fresh one.
      try {
        this.bt.destroy();
      } catch {
        // already closed
      }
      this.bt = null;
    }
    if (!this.bt) {
      this.busBroken = false;
      this.bt = (this.opts.createBluetooth ?? NodeBle.createBluetooth)();
      this.busError = null;
      let fail: (err: unknown) => void = () => undefined;
      this.busFailed = new Promise<never>((_resolve, reject) => (fail = reject));
      this.busFailed.catch(() => undefined);
      onBusError(this.bt.bluetooth, (err) => {
        this.busBroken = true;
        this.busError = bluezErrorText(err);
        this.lastError = `system bus: ${this.busError}`;
        fail(err);
      });
    }
    return this.bt.bluetooth;
  }

  /** Supervision: bluetoothd, the adapter and its power, the allow-list, discovery. Never throws. */
  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.tickRun ?? Promise.resolve();
    this.ticking = true;
    this.tickRun = this.supervise().finally(() => {
      this.ticking = false;
      this.tickRun = null;
    });
    return this.tickRun;
  }

  private async supervise(): Promise<void> {
    try {
      const bluetooth = this.bluetooth();
      let owner: string | null = null;
      try {
        // dbus-next never fails calls on a connection that could not be made: the limit turns that into an answer.
        owner = await withTimeout(Promise.race([bluezOwner(bluetooth), this.busFailed]), this.timeoutMs, 'asking the system bus for org.bluez');
      } catch (err) {
        this.busBroken = true;
        this.lastError = bluezErrorText(err);
      }
      if (this.stopped) return;
      if (this.busBroken) return this.down(`system bus unreachable (${this.busError ?? this.lastError}) — see docs/ble.md`);
      if (!owner) return this.down('bluetoothd not running (no org.bluez on the system bus)');
      if (owner !== this.owner) {
        if (this.owner !== null) this.down('bluetoothd restarted');
        this.owner = owner;
        this.adapter = null;
      }
      if (!this.adapter) {
        const names = await withTimeout(bluetooth.adapters(), this.timeoutMs, 'listing adapters');
        const name = this.opts.adapter ?? names[0];
        if (!name || !names.includes(name)) {
          return this.down(this.opts.adapter ? `adapter ${this.opts.adapter} not found (have: ${names.join(', ') || 'none'})` : 'no Bluetooth adapter');
        }
        this.adapter = await bluetooth.getAdapter(name);
        this.adapterName = name;
      }
      const adapter = this.adapter;
      let powered: boolean;
      try {
        powered = await withTimeout(adapter.isPowered(), this.timeoutMs, 'reading Powered');
      } catch {
        return this.down(`adapter ${this.adapterName} gone (unplugged, or bluetoothd restarting)`);
      }
      if (!powered) return this.down(`adapter ${this.adapterName} powered off (bluetoothctl power on)`, true);
      if (!this.ready) {
        this.ready = true;
        this.adapterState = `adapter ${this.adapterName} ready`;
        for (const l of this.links.values()) l.kick(true);
      }
      const present = new Set((await withTimeout(adapter.devices(), this.timeoutMs, 'listing devices')).map((a) => a.toUpperCase()));
      let missing = 0;
      for (const address of present) {
        const link = this.byAddress.get(address);
        if (!link) this.ignored.add(address);
        else if (link.notSeen && !link.connected) link.kick(true);
      }
      for (const l of this.links.values()) if (!present.has(l.address) && !l.connected) missing++;
      await this.manageDiscovery(adapter, missing > 0 && this.connectsInFlight === 0);
    } catch (err) {
      this.supervisionErrors++;
      this.lastError = bluezErrorText(err);
    }
  }

  private async manageDiscovery(adapter: NodeBle.Adapter, want: boolean): Promise<void> {
    if (want === this.weDiscover || (want && this.stopped)) return;
    if (!want) return this.stopDiscovery();
    const start = (async (): Promise<void> => {
      try {
        await withTimeout(adapter.startDiscovery(), this.timeoutMs, 'StartDiscovery');
        this.discoveryStarts++;
        this.weDiscover = true;
      } catch (err) {
        // Another client (bluetoothctl scan on) already discovers: the devices show up all the same.
        if (/already in progress|InProgress/.test(bluezErrorName(err))) return;
        throw err;
      }
    })();
    this.discoveryStart = start;
    try {
      await start;
    } finally {
      this.discoveryStart = null;
    }
  }

  private async stopDiscovery(): Promise<void> {
    const adapter = this.adapter;
    this.weDiscover = false;
    if (!adapter) return;
    try {
      await withTimeout(adapter.stopDiscovery(), this.timeoutMs, 'StopDiscovery');
    } catch {
      // not discovering any more (power cycle) or bluetoothd gone: nothing to stop
    }
  }

  stats(): BleDriverStats {
    return {
      adapter: this.adapterName,
      adapterState: this.adapterState,
      ignoredDevices: this.ignored.size,
      discoveryStarts: this.discoveryStarts,
      supervisionErrors: this.supervisionErrors,
      lastError: this.lastError,
      links: [...this.links.values()].map((l) => ({
        id: l.id,
        address: l.address,
        connected: l.connected,
        state: l.state,
        connects: l.connects,
        linkLosses: l.linkLosses,
        failures: l.failures,
        inProgressRetries: l.inProgressRetries,
      })),
    };
  }

  /** Signal listeners on the driver's D-Bus connection (must stay flat across reconnects). */
  signalListeners(): number {
    return this.bt ? signalListenerCount(this.bt.bluetooth) : 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.tickRun; // a supervision pass under way must not start a discovery after we stopped it
    for (const w of this.slotWaiters.splice(0)) w();
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    if (this.weDiscover) await this.stopDiscovery();
    this.links.clear();
    this.byAddress.clear();
    try {
      this.bt?.destroy();
    } catch {
      // already closed
    }
    this.bt = null;
    // The adapter proxy and bluetoothd's bus name belong to the connection just closed: a start after this stop
    // looks them up again (a stale proxy made the first supervision pass wait out a call timeout, then report the
    // adapter gone).
    this.adapter = null;
    this.owner = null;
    this.ready = false;
  }
}
