import type { SignalPayload } from '../pipeline/campaign-engagement';
import { SeriesTimestamps } from './series-timestamps';
import { boundedText, echoable, parseDownlinkPayload } from './downlink-payload';
import { packItems, runsOfKind, type DownlinkAnswer, type DownlinkKind, type DownlinkRequest, type OutboxItem, type Publication, type SyncProfile } from './sync-profile';

/** Shared attribute that carries a profile's V for a campaign: `v_<campaign>` on the profile's device. */
export const VALUE_KEY_PREFIX = 'v_';

type TbReply =
  | { via: 'device-rpc'; device: string; id: unknown }
  | { via: 'gateway-rpc'; requestId: string }
  | { via: 'attributes'; device: string }
  | { via: 'none' };

// Maps, not object literals: a method named `toString` or `__proto__` must not find a prototype's function.
const GATEWAY_METHODS: ReadonlyMap<string, DownlinkKind> = new Map([['setConsent', 'consent'], ['setCampaign', 'campaign'], ['setValue', 'value'], ['reportConversion', 'conversion']]);
const DEVICE_METHODS: ReadonlyMap<string, DownlinkKind> = new Map([['setConsent', 'consent'], ['setValue', 'value'], ['reportConversion', 'conversion']]);
const methodOf = (table: ReadonlyMap<string, DownlinkKind>, m: unknown): DownlinkKind | undefined => (typeof m === 'string' ? table.get(m) : undefined);
const unknownMethod = (table: ReadonlyMap<string, DownlinkKind>, m: unknown): string =>
  boundedText(`unknown method ${typeof m === 'string' ? JSON.stringify(m) : typeof m} (one of: ${[...table.keys()].join(', ')})`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A shared attribute set in ThingsBoard's UI as a string ("64") arrives as a string; ThingsBoard itself reads
 * such a string as the number (JsonConverter with type casting, commons-lang NumberUtils.isParsable: optional
 * '-', digits, at most one '.', no exponent), so the agent does too. Anything else is left for validation.
 */
export function numberAsThingsboardReads(v: unknown): unknown {
  return typeof v === 'string' && /^-?(?:\d+(?:\.\d+)?|\.\d+)$/.test(v) ? Number(v) : v;
}

/**
 * One signal as telemetry of its profile device. Keys are `<campaign>.<field>`: ThingsBoard keeps one value
 * per (device, key, ts), so two campaigns of a profile never overwrite each other, and each campaign's index is
 * a series of its own (`coffee.index`). Campaign ids cannot hold a comma, and no field name holds a dot, so the
 * key names one (campaign, field) only. A null R (no event in the window yet) is left out, as ThingsBoard
 * would skip it anyway.
 */
export function signalTelemetry(s: SignalPayload): Record<string, unknown> {
  const c = s.campaign;
  const out: Record<string, unknown> = { [`${c}.index`]: s.index };
  if (s.r !== null) out[`${c}.r`] = s.r;
  out[`${c}.f`] = s.f;
  if (s.v !== null) out[`${c}.v`] = s.v;
  out[`${c}.trigger`] = s.trigger;
  out[`${c}.channels`] = s.channels;
  out[`${c}.id`] = s.id;
  return out;
}

/**
 * Profile `thingsboard`: the ThingsBoard IoT gateway device API (DESIGN §6). Every household profile is a
 * ThingsBoard device (type `profile`) connected through the gateway; signals are its telemetry; consent receipts
 * and the gateway's own figures are the gateway device's telemetry (`v1/devices/me/telemetry`).
 */
export class ThingsboardProfile implements SyncProfile {
  readonly name = 'thingsboard';
  private nextRequestId = 1;
  /** attribute requests in flight: id → (device, keys) */
  private readonly requests = new Map<number, { device: string; keys: string[] }>();
  /** one ms per point of a series: ThingsBoard would keep only the last of two at the same ts */
  private readonly timestamps = new SeriesTimestamps();

  constructor(
    private readonly profiles: readonly string[],
    /** campaigns whose V comes from upstream: their `v_<campaign>` attributes are requested at connect */
    private readonly upstreamValued: readonly string[],
  ) {}

  will(): null {
    return null; // ThingsBoard tracks the gateway's activity itself
  }

  subscriptions(): string[] {
    return ['v1/gateway/attributes', 'v1/gateway/attributes/response', 'v1/gateway/rpc', 'v1/devices/me/rpc/request/+', 'v1/devices/me/attributes'];
  }

  onConnect(): Array<Omit<Publication, 'rowIds'>> {
    const out: Array<Omit<Publication, 'rowIds'>> = this.profiles.map((p) => ({ topic: 'v1/gateway/connect', payload: JSON.stringify({ device: p, type: 'profile' }) }));
    if (this.upstreamValued.length > 0) {
      const keys = this.upstreamValued.map((c) => VALUE_KEY_PREFIX + c);
      for (const p of this.profiles) {
        const id = this.nextRequestId++;
        this.requests.set(id, { device: p, keys });
        // the server reads a boolean `client` (false: shared scope) and `key` or `keys` (AbstractGatewaySessionHandler)
        out.push({ topic: 'v1/gateway/attributes/request', payload: JSON.stringify({ id, device: p, client: false, keys }) });
      }
    }
    return out;
  }

  onStop(): Array<Omit<Publication, 'rowIds'>> {
    return this.profiles.map((p) => ({ topic: 'v1/gateway/disconnect', payload: JSON.stringify({ device: p }) }));
  }

  gatewayTelemetry(values: Record<string, number | string | boolean | null>, ts: number): Omit<Publication, 'rowIds'> {
    return { topic: 'v1/devices/me/telemetry', payload: JSON.stringify({ ts, values }) };
  }

  encode(items: readonly OutboxItem[], maxPayloadBytes: number): Publication[] {
    const out: Publication[] = [];
    /**
     * ThingsBoard's limit (transport.mqtt.max_payload_size) is on the PUBLISH after its fixed header: topic
     * (2 + length), packet id (2) and payload. A message over it makes the server drop the connection, and the
     * same message would be re-sent for ever; so each message is checked as built, and halved until it fits
     * (one item alone still goes: nothing smaller can be sent).
     */
    const emit = (topic: string, part: OutboxItem[], build: (part: OutboxItem[]) => string): void => {
      const payload = build(part);
      if (part.length > 1 && 4 + Buffer.byteLength(topic) + Buffer.byteLength(payload) > maxPayloadBytes) {
        const half = Math.ceil(part.length / 2);
        emit(topic, part.slice(0, half), build);
        emit(topic, part.slice(half), build);
        return;
      }
      out.push({ topic, payload, rowIds: part.map((it) => it.row.id) });
    };
    for (const { kind, run } of runsOfKind(items)) {
      if (kind === 'signal') {
        const entry = (it: OutboxItem): { ts: number; values: Record<string, unknown> } => {
          const s = it.body as SignalPayload;
          return { ts: this.timestamps.assign(`${s.profile}\u0000${s.campaign}`, it.row.id, s.ts), values: signalTelemetry(s) };
        };
        // {"<profile>": [{ts, values}, …], …}
        const build = (part: OutboxItem[]): string => {
          const byProfile: Record<string, Array<ReturnType<typeof entry>>> = {};
          for (const it of part) (byProfile[(it.body as SignalPayload).profile] ??= []).push(entry(it));
          return JSON.stringify(byProfile);
        };
        for (const part of packItems(run, (it) => JSON.stringify(entry(it)), (b, n) => b + n * 64 + 2, maxPayloadBytes)) emit('v1/gateway/telemetry', part, build);
      } else {
        // consent receipts (and anything else the gateway itself reports): the gateway device's telemetry
        const key = kind === 'consent' ? 'consentReceipt' : kind;
        const entry = (it: OutboxItem): { ts: number; values: Record<string, unknown> } => ({
          ts: this.timestamps.assign(key, it.row.id, it.row.createdAt),
          values: { [key]: it.body },
        });
        for (const part of packItems(run, (it) => JSON.stringify(entry(it)), (b, n) => b + n + 2, maxPayloadBytes))
          emit('v1/devices/me/telemetry', part, (p) => JSON.stringify(p.map(entry)));
      }
    }
    return out;
  }

  parseDownlink(topic: string, payload: Buffer): DownlinkRequest[] | null {
    let msg: unknown;
    let parseError = '';
    const parse = (): boolean => {
      const p = parseDownlinkPayload(payload);
      if (p.ok) msg = p.value;
      else parseError = p.error;
      return p.ok;
    };
    if (topic.startsWith('v1/devices/me/rpc/request/')) {
      const reply: TbReply = { via: 'gateway-rpc', requestId: topic.slice('v1/devices/me/rpc/request/'.length) };
      if (!parse() || !isObject(msg)) return [{ kind: 'invalid', body: null, error: parseError || 'payload is not a JSON object', reply }];
      const kind = methodOf(GATEWAY_METHODS, msg.method);
      if (!kind) return [{ kind: 'invalid', body: msg, error: unknownMethod(GATEWAY_METHODS, msg.method), reply }];
      return [{ kind, body: msg.params ?? {}, reply }];
    }
    if (topic === 'v1/gateway/rpc') {
      if (!parse() || !isObject(msg) || typeof msg.device !== 'string' || !isObject(msg.data)) return [];
      const device = msg.device;
      const data = msg.data;
      // The topic carries our replies too: a message without a method is a reply (ours, seen back through a
      // plain broker) and must not be answered, or two replies would answer each other for ever.
      if (!Object.hasOwn(data, 'method')) return [];
      const reply: TbReply = { via: 'device-rpc', device, id: echoable(data.id) };
      if (!this.profiles.includes(device)) return [{ kind: 'invalid', body: data, error: boundedText(`unknown profile device "${device}"`), reply }];
      const kind = methodOf(DEVICE_METHODS, data.method);
      if (!kind) return [{ kind: 'invalid', body: data, error: unknownMethod(DEVICE_METHODS, data.method), reply }];
      const params = isObject(data.params) ? data.params : {};
      return [{ kind, body: { ...params, profile: device }, reply }];
    }
    if (topic === 'v1/gateway/attributes' || topic === 'v1/gateway/attributes/response') {
      if (!parse() || !isObject(msg) || typeof msg.device !== 'string') return [];
      const device = msg.device;
      let values: Record<string, unknown> = {};
      let deleted: unknown[] = [];
      if (topic === 'v1/gateway/attributes') {
        // {"device","data":{"<key>": value, …, "deleted": ["<key>", …]}}: updates and deletions in one object
        const data = isObject(msg.data) ? msg.data : {};
        if (Array.isArray(data.deleted)) deleted = data.deleted;
        values = Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'deleted'));
      } else {
        // {"id","device","value"} when one key was asked for, {"id","device","values":{…}} for several, neither
        // when none of them is set
        const req = typeof msg.id === 'number' ? this.requests.get(msg.id) : undefined;
        if (typeof msg.id === 'number') this.requests.delete(msg.id);
        if (isObject(msg.values)) values = msg.values;
        else if (Object.hasOwn(msg, 'value') && req?.keys.length === 1) values = { [req.keys[0]]: msg.value };
        // a requested key the answer leaves out does not exist (any more): deleted while we were away
        if (req) for (const k of req.keys) if (!Object.hasOwn(values, k)) deleted.push(k);
      }
      const reply: TbReply = { via: 'attributes', device };
      const out: DownlinkRequest[] = [];
      for (const [k, v] of Object.entries(values))
        if (k.startsWith(VALUE_KEY_PREFIX)) out.push({ kind: 'value', body: { profile: device, campaign: k.slice(VALUE_KEY_PREFIX.length), v: numberAsThingsboardReads(v) }, reply });
      // a deleted V attribute: the campaign's V for this profile is unset again (its default, or no index)
      for (const k of deleted)
        if (typeof k === 'string' && k.startsWith(VALUE_KEY_PREFIX)) out.push({ kind: 'value', body: { profile: device, campaign: k.slice(VALUE_KEY_PREFIX.length), v: null }, reply });
      return out;
    }
    if (topic === 'v1/devices/me/attributes') return []; // the gateway's own shared attributes: nothing mapped yet
    return null;
  }

  answer(req: DownlinkRequest, a: DownlinkAnswer): Omit<Publication, 'rowIds'> | null {
    const r = req.reply as TbReply;
    const data: Record<string, unknown> = { success: a.ok, ...(a.ok ? { data: a.data ?? {} } : { error: a.error ?? 'failed' }) };
    switch (r.via) {
      case 'gateway-rpc':
        return { topic: `v1/devices/me/rpc/response/${r.requestId}`, payload: JSON.stringify(data) };
      case 'device-rpc':
        return { topic: 'v1/gateway/rpc', payload: JSON.stringify({ device: r.device, id: r.id, data }) };
      case 'attributes':
        // attribute updates have no reply topic: the outcome is a client attribute of the profile device. A
        // success clears the error with "": ThingsBoard skips null values, so null would leave the old error.
        return {
          topic: 'v1/gateway/attributes',
          payload: JSON.stringify({ [r.device]: { lastDownlinkStatus: a.ok ? 'ok' : 'error', lastDownlinkError: a.ok ? '' : (a.error ?? 'failed') } }),
        };
      case 'none':
        return null;
    }
  }
}
