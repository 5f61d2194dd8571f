import type { JsonNode } from './gson-json';
import { tbValues, type TbValue, type TsKvList } from './tb-values';

export interface DeviceRecord {
  name: string;
  type: string;
  /** connected through the gateway in the current session (connect message or any message naming it) */
  connected: boolean;
}

/**
 * What the ThingsBoard double stores: telemetry by (device, key, ts) with upsert, client and shared attributes,
 * and the devices the gateway named. The gateway device itself is the device named "".
 */
export class TbStore {
  /** (device → key → ts → value), upserted like ThingsBoard's ts_kv */
  readonly telemetry = new Map<string, Map<string, Map<number, TbValue>>>();
  readonly clientAttributes = new Map<string, Map<string, TbValue>>();
  readonly sharedAttributes = new Map<string, Map<string, TbValue>>();
  readonly devices = new Map<string, DeviceRecord>();

  /** One telemetry series, oldest first. */
  series(device: string, key: string): Array<{ ts: number; value: TbValue['value'] }> {
    const s = this.telemetry.get(device)?.get(key);
    return s ? [...s].sort((a, b) => a[0] - b[0]).map(([ts, v]) => ({ ts, value: v.value })) : [];
  }

  /** Latest value per key of a device (ThingsBoard's "latest telemetry": the value with the greatest ts). */
  latest(device: string): Record<string, { ts: number; value: TbValue['value'] }> {
    const out: Record<string, { ts: number; value: TbValue['value'] }> = {};
    for (const [key, s] of this.telemetry.get(device) ?? []) {
      let best = -Infinity;
      for (const ts of s.keys()) best = Math.max(best, ts);
      out[key] = { ts: best, value: s.get(best)!.value };
    }
    return out;
  }

  keys(device: string): string[] {
    return [...(this.telemetry.get(device)?.keys() ?? [])].sort();
  }

  /** Client attribute of a device as a plain value (undefined when absent). */
  clientAttribute(device: string, key: string): TbValue['value'] | undefined {
    return this.clientAttributes.get(device)?.get(key)?.value;
  }

  storeTelemetry(device: string, lists: TsKvList[]): void {
    let byKey = this.telemetry.get(device);
    if (!byKey) this.telemetry.set(device, (byKey = new Map()));
    for (const { ts, values } of lists)
      for (const [k, v] of values) {
        let s = byKey.get(k);
        if (!s) byKey.set(k, (s = new Map()));
        s.set(ts, v);
      }
  }

  storeClientAttributes(device: string, values: JsonNode): void {
    const store = this.attrMap(this.clientAttributes, device);
    for (const [k, v] of tbValues(values)) store.set(k, v);
  }

  /** A device's attributes of one scope (client or shared), created empty on first use. */
  attrMap(m: Map<string, Map<string, TbValue>>, device: string): Map<string, TbValue> {
    let a = m.get(device);
    if (!a) m.set(device, (a = new Map()));
    return a;
  }

  /** ThingsBoard gets-or-creates a device named in any gateway message (type "default" unless connected with one). */
  connectDevice(name: string, type?: string): void {
    const d = this.devices.get(name);
    if (d) d.connected = true; // the type is fixed when the device is created
    else this.devices.set(name, { name, type: type ?? 'default', connected: true });
  }
}
