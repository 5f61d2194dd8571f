import { GsonAccessError, JsonSyntaxError, asArray, asBoolean, asInt, asString, jsonText, jsValue, member, parseJson, type JsonNode } from './gson-json';
import { MqttEndpoint, type MqttSession, type PublishAnswer } from './mqtt-endpoint';
import { OtaPackageServer, otaChecksum, type OtaPackage } from './ota-package-server';
import { TbConversionError, deviceTelemetry, gatewayTelemetry, tbValueJson, tbValueOf, tbValues, type TbValue, type TsKvList } from './tb-values';

/** What the server did with one PUBLISH (MQTT 3.1.1, what the agent speaks). */
export type Verdict =
  | { outcome: 'accepted' }
  /** RuntimeException in the gateway handler: ThingsBoard still writes a PUBACK (3.1.1 has no reason code), then closes */
  | { outcome: 'acked-then-closed'; reason: string }
  /** AdaptorException or a failed conversion: the connection is closed without a PUBACK */
  | { outcome: 'closed'; reason: string; flushFirst?: true };

export interface Rejection {
  topic: string;
  payload: string;
  outcome: 'acked-then-closed' | 'closed';
  reason: string;
}

export interface DeviceRecord {
  name: string;
  type: string;
  /** connected through the gateway in the current session (connect message or any message naming it) */
  connected: boolean;
}

interface PendingRpc {
  resolve(data: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A ThingsBoard-faithful MQTT endpoint for tests: one gateway device (access token as the MQTT username),
 * the gateway API (`v1/gateway/*`) and the device API of the gateway itself (`v1/devices/me/*`), parsed the
 * way ThingsBoard's MQTT transport does (see README.md next to this file). Telemetry is stored by
 * (device, key, ts) with upsert; attribute requests are answered; shared-attribute updates/deletions and
 * server-side RPC are sent in the server's shapes. Closes it makes are counted.
 */
export class ThingsboardDouble {
  private endpoint: MqttEndpoint | null = null;
  private portNo = 0;
  private gateway: MqttSession | null = null;

  /** (device → key → ts → value), upserted like ThingsBoard's ts_kv */
  readonly telemetry = new Map<string, Map<string, Map<number, TbValue>>>();
  readonly clientAttributes = new Map<string, Map<string, TbValue>>();
  readonly sharedAttributes = new Map<string, Map<string, TbValue>>();
  readonly devices = new Map<string, DeviceRecord>();
  readonly rejections: Rejection[] = [];
  /** connections the double closed because of a message (ThingsBoard's answer to a parse failure) */
  closesByServer = 0;
  /** every connection that ended, whoever ended it (restarts included) */
  disconnects = 0;
  connects = 0;
  restarts = 0;
  /** accepted PUBLISHes by topic */
  readonly accepted = new Map<string, number>();
  /** every accepted PUBLISH in order (topic + payload), for assertions on exact shapes */
  readonly log: Array<{ topic: string; payload: string }> = [];
  private readonly rpcSeq = new Map<string, number>();
  private readonly pendingRpc = new Map<string, PendingRpc>();
  private gatewayRpcSeq = 0;
  /** firmware packages and chunk requests of the gateway's own session (ota-package-server.ts) */
  readonly ota = new OtaPackageServer();

  constructor(
    private readonly opts: {
      accessToken?: string;
      host?: string;
      /** transport.mqtt.max_payload_size (default 65536): the limit on a packet's remaining length */
      maxPayloadSize?: number;
    } = {},
  ) {}

  get port(): number {
    return this.portNo;
  }
  get url(): string {
    return `mqtt://${this.opts.host ?? '127.0.0.1'}:${this.portNo}`;
  }
  get gatewayConnected(): boolean {
    return this.gateway !== null;
  }

  async start(port = 0): Promise<void> {
    const endpoint = new MqttEndpoint({
      authenticate: (username) => this.opts.accessToken === undefined || username === this.opts.accessToken,
      onConnect: (session) => {
        this.connects++;
        this.gateway = session;
        this.ota.newSession();
        for (const d of this.devices.values()) d.connected = false; // a new session starts with no sub-devices
      },
      onClose: (session) => {
        this.disconnects++;
        if (this.gateway === session) this.gateway = null;
      },
      onPublish: (_session, topic, payload) => this.onPublish(topic, payload.toString('utf8')),
      maxRemainingLength: this.opts.maxPayloadSize ?? 65536,
      onTooLarge: (_session, length) => {
        this.closesByServer++;
        this.rejections.push({ topic: '', payload: '', outcome: 'closed', reason: `too large message: ${length} bytes` });
      },
    });
    this.portNo = await endpoint.listen(port, this.opts.host ?? '127.0.0.1');
    this.endpoint = endpoint;
  }

  async stop(): Promise<void> {
    const endpoint = this.endpoint;
    this.endpoint = null;
    this.gateway = null;
    await endpoint?.close();
    for (const d of this.devices.values()) d.connected = false;
    for (const [, p] of this.pendingRpc) {
      clearTimeout(p.timer);
      p.reject(new Error('server stopped'));
    }
    this.pendingRpc.clear();
  }

  /**
   * A server restart: every connection drops, stored data stays, the same port is listened on again.
   * `whileDown` runs between (e.g. an operator changing attributes nobody is told about).
   */
  async restart(downMs = 0, whileDown?: () => Promise<void> | void): Promise<void> {
    await this.stop();
    await whileDown?.();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.start(this.portNo);
    this.restarts++;
  }

  // ---- what the server stores -------------------------------------------------------------------------

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

  // ---- what the server sends ----------------------------------------------------------------------------

  /**
   * Sets shared attributes of a device as an operator does in the UI (values keep their JSON type: "64" is a
   * string) and notifies the gateway: `v1/gateway/attributes {"device","data":{…}}`, or for the gateway itself
   * `v1/devices/me/attributes {…}`. A sub-device not connected in the current session is not notified.
   */
  async setSharedAttributes(device: string | null, values: Record<string, unknown>): Promise<void> {
    const store = this.attrMap(this.sharedAttributes, device ?? '');
    const data: string[] = [];
    for (const [k, v] of Object.entries(values)) {
      const tv = tbValueOf(v);
      store.set(k, tv);
      data.push(`${JSON.stringify(k)}:${tbValueJson(tv)}`);
    }
    await this.notifyAttributes(device, `{${data.join(',')}}`);
  }

  /** Deletes shared attributes: `{"device","data":{"deleted":[…]}}` (`{"deleted":[…]}` for the gateway itself). */
  async deleteSharedAttributes(device: string | null, keys: string[]): Promise<void> {
    const store = this.attrMap(this.sharedAttributes, device ?? '');
    for (const k of keys) store.delete(k);
    await this.notifyAttributes(device, JSON.stringify({ deleted: keys }));
  }

  /**
   * Assigns a firmware package to the gateway device as DefaultOtaPackageStateService does: telemetry
   * target_fw_title/version/ts and fw_state QUEUED, then INITIATED, then the shared attributes fw_title,
   * fw_version, fw_tag, fw_size, fw_checksum_algorithm, fw_checksum (pushed on `v1/devices/me/attributes`).
   */
  async assignFirmware(pkg: OtaPackage): Promise<void> {
    this.ota.pkg = pkg;
    const ts = Date.now();
    const values: Record<string, unknown> = { target_fw_title: pkg.title, target_fw_version: pkg.version, target_fw_ts: ts, fw_state: 'QUEUED' };
    if (pkg.tag) values.target_fw_tag = pkg.tag;
    this.storeTelemetry('', [{ ts, values: Object.entries(values).map(([k, v]): [string, TbValue] => [k, tbValueOf(v)]) }]);
    this.storeTelemetry('', [{ ts: ts + 1, values: [['fw_state', tbValueOf('INITIATED')]] }]);
    const attrs: Record<string, unknown> = { fw_title: pkg.title, fw_version: pkg.version };
    if (pkg.tag) attrs.fw_tag = pkg.tag;
    Object.assign(attrs, { fw_size: pkg.data.length, fw_checksum_algorithm: pkg.checksumAlgorithm, fw_checksum: otaChecksum(pkg) });
    await this.setSharedAttributes(null, attrs);
  }

  /** Unassigns: the fw_* shared attributes are deleted (the gateway is told), chunk requests get NOT_FOUND. */
  async unassignFirmware(): Promise<void> {
    this.ota.pkg = null;
    await this.deleteSharedAttributes(null, ['fw_title', 'fw_version', 'fw_tag', 'fw_size', 'fw_checksum_algorithm', 'fw_checksum']);
  }

  private async notifyAttributes(device: string | null, data: string): Promise<void> {
    if (!this.gateway) return; // nobody connected: the next attribute request finds the stored state
    if (device === null) await this.send('v1/devices/me/attributes', data);
    else if (this.devices.get(device)?.connected) await this.send('v1/gateway/attributes', `{"device":${JSON.stringify(device)},"data":${data}}`);
  }

  /**
   * Server-side RPC to a sub-device: `v1/gateway/rpc {"device","data":{"id","method","params"}}` with the
   * device's own request counter; resolves with the `data` of the gateway's reply (`{"device","id","data"}`).
   */
  rpcToDevice(device: string, method: string, params: unknown, timeoutMs = 10_000): Promise<unknown> {
    if (!this.devices.get(device)?.connected) return Promise.reject(new Error(`device "${device}" is not connected through the gateway`));
    const id = (this.rpcSeq.get(device) ?? 0) + 1;
    this.rpcSeq.set(device, id);
    const payload = `{"device":${JSON.stringify(device)},"data":{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}}`;
    return this.awaitRpc(`${device}\u0000${id}`, timeoutMs, () => this.send('v1/gateway/rpc', payload));
  }

  /** Server-side RPC to the gateway device itself: `v1/devices/me/rpc/request/<id> {"method","params"}`. */
  rpcToGateway(method: string, params: unknown, timeoutMs = 10_000): Promise<unknown> {
    const id = ++this.gatewayRpcSeq;
    return this.awaitRpc(`\u0000${id}`, timeoutMs, () => this.send(`v1/devices/me/rpc/request/${id}`, JSON.stringify({ method, params })));
  }

  private awaitRpc(key: string, timeoutMs: number, publish: () => Promise<void>): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingRpc.delete(key);
        reject(new Error('RPC timed out'));
      }, timeoutMs);
      this.pendingRpc.set(key, { resolve, reject, timer });
      publish().catch((err: Error) => {
        clearTimeout(timer);
        this.pendingRpc.delete(key);
        reject(err);
      });
    });
  }

  private settleRpc(key: string, data: unknown): void {
    const p = this.pendingRpc.get(key);
    if (!p) return; // a late or unknown reply: ThingsBoard ignores it too
    clearTimeout(p.timer);
    this.pendingRpc.delete(key);
    p.resolve(data);
  }

  /** Delivers to the gateway session if it subscribed to the topic (ThingsBoard's QoS map works the same way). */
  private send(topic: string, payload: string | Buffer): Promise<void> {
    if (!this.endpoint) return Promise.reject(new Error('server is down'));
    this.gateway?.deliver(topic, typeof payload === 'string' ? Buffer.from(payload) : payload);
    return Promise.resolve();
  }

  // ---- what the server parses ---------------------------------------------------------------------------

  private onPublish(topic: string, payload: string): PublishAnswer {
    const v = this.handle(topic, payload);
    if (v.outcome === 'accepted') {
      this.accepted.set(topic, (this.accepted.get(topic) ?? 0) + 1);
      this.log.push({ topic, payload });
      return 'puback';
    }
    this.rejections.push({ topic, payload, outcome: v.outcome, reason: v.reason });
    this.closesByServer++;
    if (v.outcome === 'closed') return v.flushFirst ? 'flush-then-close' : 'close';
    return 'puback-then-close';
  }

  /** The verdict on one PUBLISH and its effects on the store; exported for table tests through `verdict`. */
  handle(topic: string, payload: string): Verdict {
    if (topic.startsWith('v1/gateway/')) return this.gatewayPublish(topic, payload);
    return this.devicePublish(topic, payload);
  }

  private gatewayPublish(topic: string, payload: string): Verdict {
    // an unknown gateway topic gets PUBACK (TOPIC_NAME_INVALID under MQTT 5) before anything is parsed
    if (!GATEWAY_TOPICS.has(topic)) return { outcome: 'accepted' };
    let json: JsonNode;
    try {
      json = parseJson(payload);
    } catch (err) {
      return { outcome: 'closed', reason: `invalid JSON: ${(err as Error).message}` }; // AdaptorException
    }
    try {
      switch (topic) {
        case 'v1/gateway/telemetry':
          return this.perDevice(json, 'array', (device, v) => this.storeTelemetry(device, gatewayTelemetry(v, Date.now())));
        case 'v1/gateway/attributes':
          return this.perDevice(json, 'object', (device, v) => this.storeClientAttributes(device, v));
        case 'v1/gateway/attributes/request':
          return this.attributeRequest(json);
        case 'v1/gateway/rpc': {
          const o = objectOrThrow(json);
          const device = asString(member(o, 'device'));
          const id = asInt(member(o, 'id'));
          const data = jsValue(member(o, 'data'));
          this.connectDevice(device);
          this.settleRpc(`${device}\u0000${id}`, data);
          return { outcome: 'accepted' };
        }
        case 'v1/gateway/connect': {
          const o = objectOrThrow(json);
          const device = nonEmpty(asString(member(o, 'device')));
          const t = o.members.get('type');
          this.connectDevice(device, t === undefined || t.t === 'null' ? 'default' : asString(t));
          return { outcome: 'accepted' };
        }
        case 'v1/gateway/disconnect': {
          const device = nonEmpty(asString(member(objectOrThrow(json), 'device')));
          const d = this.devices.get(device);
          if (d) d.connected = false;
          return { outcome: 'accepted' };
        }
        default: // v1/gateway/claim
          return this.perDevice(json, 'object', () => undefined);
      }
    } catch (err) {
      if (err instanceof GsonAccessError || err instanceof JsonSyntaxError || err instanceof TbConversionError || err instanceof HandlerError)
        return { outcome: 'acked-then-closed', reason: err.message };
      throw err;
    }
  }

  /**
   * `{"<device>": <entry>, …}`: entries of the wrong JSON kind are skipped (logged by ThingsBoard); none left is an
   * error. Each device is then converted on its own: the first that fails closes the connection (without
   * PUBACK); the devices before it are stored already.
   */
  private perDevice(json: JsonNode, kind: 'array' | 'object', apply: (device: string, v: JsonNode) => void): Verdict {
    const o = objectOrThrow(json);
    const entries = [...o.members].filter(([, v]) => v.t === kind);
    if (entries.length === 0) throw new HandlerError('Devices message is empty');
    for (const [device, v] of entries) {
      this.connectDevice(device);
      try {
        apply(device, v);
      } catch (err) {
        if (err instanceof TbConversionError || err instanceof GsonAccessError) return { outcome: 'closed', reason: `device "${device}": ${err.message}` };
        throw err;
      }
    }
    return { outcome: 'accepted' };
  }

  private attributeRequest(json: JsonNode): Verdict {
    const o = objectOrThrow(json);
    const id = asInt(member(o, 'id'));
    const device = asString(member(o, 'device'));
    const client = asBoolean(member(o, 'client'));
    const keys = o.members.has('key') ? [asString(member(o, 'key'))] : asArray(member(o, 'keys')).items.map(asString);
    const unique = [...new Set(keys)];
    this.connectDevice(device);
    const store = this.attrMap(client ? this.clientAttributes : this.sharedAttributes, device);
    const found = unique.filter((k) => store.has(k));
    let body = `{"id":${id},"device":${JSON.stringify(device)}`;
    if (found.length === 1 && unique.length <= 1) body += `,"value":${tbValueJson(store.get(found[0])!)}`;
    else if (found.length > 0) body += `,"values":{${found.map((k) => `${JSON.stringify(k)}:${tbValueJson(store.get(k)!)}`).join(',')}}`;
    void this.send('v1/gateway/attributes/response', `${body}}`).catch(() => undefined);
    return { outcome: 'accepted' };
  }

  private devicePublish(topic: string, payload: string): Verdict {
    const gw = '';
    try {
      if (topic === 'v1/devices/me/telemetry') {
        this.storeTelemetry(gw, deviceTelemetry(parseJson(payload), Date.now()));
        return { outcome: 'accepted' };
      }
      if (topic === 'v1/devices/me/attributes') {
        this.storeClientAttributes(gw, parseJson(payload));
        return { outcome: 'accepted' };
      }
      const chunk = this.ota.request(topic, payload, javaParseInt);
      if (chunk) {
        if (chunk.kind === 'chunk') void this.send(chunk.topic, chunk.data).catch(() => undefined);
        if (chunk.kind !== 'error') return { outcome: 'accepted' };
        // sendOtaPackageError: the error on v2/fw/error, then the session is closed (no PUBACK)
        void this.send(chunk.topic, chunk.error).catch(() => undefined);
        return { outcome: 'closed', reason: chunk.error, flushFirst: true };
      }
      const rpcResponse = /^v1\/devices\/me\/rpc\/response\/(.*)$/.exec(topic);
      if (rpcResponse) {
        const id = javaParseInt(rpcResponse[1]);
        let data: unknown = payload;
        try {
          data = JSON.parse(payload);
        } catch {
          /* any payload is a valid response */
        }
        this.settleRpc(`\u0000${id}`, data);
        return { outcome: 'accepted' };
      }
      const attrRequest = /^v1\/devices\/me\/attributes\/request\/(.*)$/.exec(topic);
      if (attrRequest) {
        const id = javaParseInt(attrRequest[1]);
        const body = objectOrThrow(parseJson(payload));
        const list = (name: string): string[] => {
          const e = body.members.get(name);
          return e === undefined ? [] : asString(e).split(',');
        };
        const parts: string[] = [];
        const part = (name: string, store: Map<string, TbValue>, keys: string[]): void => {
          const found = keys.filter((k) => store.has(k));
          if (found.length > 0) parts.push(`"${name}":{${found.map((k) => `${JSON.stringify(k)}:${tbValueJson(store.get(k)!)}`).join(',')}}`);
        };
        part('client', this.attrMap(this.clientAttributes, gw), list('clientKeys'));
        part('shared', this.attrMap(this.sharedAttributes, gw), list('sharedKeys'));
        void this.send(`v1/devices/me/attributes/response/${id}`, `{${parts.join(',')}}`).catch(() => undefined);
        return { outcome: 'accepted' };
      }
      return { outcome: 'accepted' }; // unknown device topic: PUBACK (TOPIC_NAME_INVALID under MQTT 5)
    } catch (err) {
      if (err instanceof GsonAccessError || err instanceof JsonSyntaxError || err instanceof TbConversionError || err instanceof HandlerError)
        return { outcome: 'closed', reason: err.message };
      throw err;
    }
  }

  private storeTelemetry(device: string, lists: TsKvList[]): void {
    let byKey = this.telemetry.get(device);
    if (!byKey) this.telemetry.set(device, (byKey = new Map()));
    for (const { ts, values } of lists)
      for (const [k, v] of values) {
        let s = byKey.get(k);
        if (!s) byKey.set(k, (s = new Map()));
        s.set(ts, v);
      }
  }

  private storeClientAttributes(device: string, values: JsonNode): void {
    const store = this.attrMap(this.clientAttributes, device);
    for (const [k, v] of tbValues(values)) store.set(k, v);
  }

  private attrMap(m: Map<string, Map<string, TbValue>>, device: string): Map<string, TbValue> {
    let a = m.get(device);
    if (!a) m.set(device, (a = new Map()));
    return a;
  }

  /** ThingsBoard gets-or-creates a device named in any gateway message (type "default" unless connected with one). */
  private connectDevice(name: string, type?: string): void {
    const d = this.devices.get(name);
    if (d) d.connected = true; // the type is fixed when the device is created
    else this.devices.set(name, { name, type: type ?? 'default', connected: true });
  }

  /** Client attribute of a device as a plain value (undefined when absent). */
  clientAttribute(device: string, key: string): TbValue['value'] | undefined {
    return this.clientAttributes.get(device)?.get(key)?.value;
  }

  /** Debug view of a message's JSON as the server read it. */
  static readAs(payload: string): string {
    return jsonText(parseJson(payload));
  }
}

const GATEWAY_TOPICS = new Set([
  'v1/gateway/telemetry',
  'v1/gateway/claim',
  'v1/gateway/attributes',
  'v1/gateway/attributes/request',
  'v1/gateway/rpc',
  'v1/gateway/connect',
  'v1/gateway/disconnect',
]);

/** A RuntimeException thrown by the gateway session handler itself (not by a conversion). */
class HandlerError extends Error {}

function objectOrThrow(json: JsonNode): Extract<JsonNode, { t: 'object' }> {
  if (json.t !== 'object') throw new HandlerError(`Can't parse value: ${jsonText(json)}`);
  return json;
}

function nonEmpty(name: string): string {
  if (name === '') throw new HandlerError('Device name is empty!');
  return name;
}

function javaParseInt(s: string): number {
  if (!/^[+-]?\d+$/.test(s) || Math.abs(Number(s)) > 2 ** 31) throw new HandlerError(`NumberFormatException: For input string: "${s}"`);
  return Number(s);
}
