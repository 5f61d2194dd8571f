import type * as NodeBle from 'node-ble';

/**
 * The few node-ble internals the driver needs and node-ble 1.13 does not expose: a D-Bus property by name
 * (Device1.UUIDs, ServicesResolved), dropping the PropertiesChanged subscriptions node-ble leaves behind when
 * a link dies without `disconnect()`, and the bus itself (owner of org.bluez, signal bookkeeping). Kept in one
 * place, typed narrowly, so a node-ble upgrade is checked here.
 */
interface BusHelperLike {
  prop(name: string): Promise<unknown>;
  removeListeners(): void;
}

interface SignalBus {
  getProxyObject(name: string, path: string): Promise<{ getInterface(name: string): { GetNameOwner(name: string): Promise<string> } }>;
  _signals?: { eventNames(): Array<string | symbol>; listenerCount(name: string | symbol): number };
  on(event: 'error', listener: (err: unknown) => void): void;
}

const helperOf = (o: object): BusHelperLike | null => {
  const h = (o as { helper?: BusHelperLike }).helper;
  return h && typeof h.prop === 'function' && typeof h.removeListeners === 'function' ? h : null;
};

/** A D-Bus property node-ble has no getter for; null when BlueZ does not have it now (RSSI out of scan). */
export async function bluezProp(o: NodeBle.Device | NodeBle.Adapter, name: string): Promise<unknown> {
  const h = helperOf(o);
  if (!h) return null;
  try {
    return await h.prop(name);
  } catch {
    return null;
  }
}

/** Drops every PropertiesChanged subscription node-ble made for this object (its match rule goes with it). */
export function releaseSignals(o: NodeBle.Device | NodeBle.GattCharacteristic): void {
  (o as unknown as NodeJS.EventEmitter).removeAllListeners();
  helperOf(o)?.removeListeners();
}

function busOf(b: NodeBle.Bluetooth): SignalBus | null {
  const bus = (b as unknown as { dbus?: SignalBus }).dbus;
  return bus && typeof bus.getProxyObject === 'function' ? bus : null;
}

/** Unique bus name of whoever owns org.bluez now (changes when bluetoothd restarts); null when nobody does. */
export async function bluezOwner(b: NodeBle.Bluetooth): Promise<string | null> {
  const bus = busOf(b);
  if (!bus) return null;
  try {
    const obj = await bus.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus');
    return await obj.getInterface('org.freedesktop.DBus').GetNameOwner('org.bluez');
  } catch {
    return null;
  }
}

/** Signal listeners registered on the connection: a number that must not grow with reconnects. */
export function signalListenerCount(b: NodeBle.Bluetooth): number {
  const s = busOf(b)?._signals;
  if (!s) return 0;
  return s.eventNames().reduce((n, e) => n + s.listenerCount(e), 0);
}

/** Keeps a dead system bus connection (daemon restart) from crashing the process; the driver reconnects. */
export function onBusError(b: NodeBle.Bluetooth, listener: (err: unknown) => void): void {
  busOf(b)?.on('error', listener);
}

/** BlueZ's D-Bus error name (`org.bluez.Error.InProgress`), or the message for other errors. */
export function bluezErrorName(err: unknown): string {
  const e = err as { type?: unknown; message?: unknown };
  if (typeof e?.type === 'string') return e.type;
  return typeof e?.message === 'string' ? e.message : String(err);
}

export function bluezErrorText(err: unknown): string {
  const e = err as { type?: unknown; text?: unknown; message?: unknown };
  if (typeof e?.type === 'string') return `${e.type.replace(/^org\.(bluez|freedesktop\.DBus)\.Error\./, '')}: ${typeof e.text === 'string' ? e.text : ''}`.replace(/: $/, '');
  return typeof e?.message === 'string' ? e.message : String(err);
}

/** Rejects after `ms` (a D-Bus call to a hung bluetoothd must not stall a link forever). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
