import * as dbus from 'dbus-next';

/* What every object of the BlueZ simulator shares: dbus-next's Interface base, property dictionaries and signals. */

export const { Interface } = dbus.interface;
export type DbusInterface = InstanceType<typeof Interface>;
export const nameOf = (iface: DbusInterface): string => (iface as unknown as { $name: string }).$name;
export type Dict = Record<string, dbus.Variant>;

/** A BlueZ error reply (org.bluez.Error.*) */
export const fail = (name: string, text: string): dbus.DBusError => new dbus.DBusError(name, text);

/** PropertiesChanged, unless the simulator's bus connection is already closed (bluetoothd "exited"). */
export function changed(iface: DbusInterface, props: Record<string, unknown>): void {
  try {
    Interface.emitPropertiesChanged(iface, props, []);
  } catch (err) {
    if (!/stream is closed/.test(String(err))) throw err;
  }
}

/** Signatures of each exported interface's properties, for GetManagedObjects and InterfacesAdded. */
export function propertiesOf(iface: DbusInterface): Dict {
  const props = (iface as unknown as { $properties?: Record<string, { name: string; signature: string }> }).$properties ?? {};
  const out: Dict = {};
  for (const [key, opt] of Object.entries(props)) {
    const value = (iface as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[opt.name] = new dbus.Variant(opt.signature, value);
  }
  return out;
}
