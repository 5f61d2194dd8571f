import { GsonAccessError, JsonSyntaxError, asArray, asBoolean, asInt, asString, jsonText, jsValue, member, parseJson, type JsonNode } from './gson-json';
import type { OtaPackageServer } from './ota-package-server';
import type { PendingRpcs } from './pending-rpcs';
import type { TbStore } from './tb-store';
import { TbConversionError, deviceTelemetry, gatewayTelemetry, tbValueJson, type TbValue } from './tb-values';

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

/** What parsing a PUBLISH may answer with or act on besides the store. */
export interface TbServerSide {
  /** delivers to the gateway session (rejects while the server is down) */
  send(topic: string, payload: string | Buffer): Promise<void>;
  readonly rpcs: PendingRpcs;
  readonly ota: OtaPackageServer;
}

/**
 * One PUBLISH parsed the way ThingsBoard's MQTT transport parses it (README.md next to this file): the gateway
 * API (`v1/gateway/*`) and the gateway's own device API (`v1/devices/me/*`), with the store updated and the
 * verdict on the connection.
 */
export class TbPublishHandler {
  constructor(
    private readonly store: TbStore,
    private readonly server: TbServerSide,
  ) {}

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
          return this.perDevice(json, 'array', (device, v) => this.store.storeTelemetry(device, gatewayTelemetry(v, Date.now())));
        case 'v1/gateway/attributes':
          return this.perDevice(json, 'object', (device, v) => this.store.storeClientAttributes(device, v));
        case 'v1/gateway/attributes/request':
          return this.attributeRequest(json);
        case 'v1/gateway/rpc': {
          const o = objectOrThrow(json);
          const device = asString(member(o, 'device'));
          const id = asInt(member(o, 'id'));
          const data = jsValue(member(o, 'data'));
          this.store.connectDevice(device);
          this.server.rpcs.settle(device, id, data);
          return { outcome: 'accepted' };
        }
        case 'v1/gateway/connect': {
          const o = objectOrThrow(json);
          const device = nonEmpty(asString(member(o, 'device')));
          const t = o.members.get('type');
          this.store.connectDevice(device, t === undefined || t.t === 'null' ? 'default' : asString(t));
          return { outcome: 'accepted' };
        }
        case 'v1/gateway/disconnect': {
          const device = nonEmpty(asString(member(objectOrThrow(json), 'device')));
          const d = this.store.devices.get(device);
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
      this.store.connectDevice(device);
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
    this.store.connectDevice(device);
    const store = this.store.attrMap(client ? this.store.clientAttributes : this.store.sharedAttributes, device);
    const found = unique.filter((k) => store.has(k));
    let body = `{"id":${id},"device":${JSON.stringify(device)}`;
    if (found.length === 1 && unique.length <= 1) body += `,"value":${tbValueJson(store.get(found[0])!)}`;
    else if (found.length > 0) body += `,"values":{${found.map((k) => `${JSON.stringify(k)}:${tbValueJson(store.get(k)!)}`).join(',')}}`;
    void this.server.send('v1/gateway/attributes/response', `${body}}`).catch(() => undefined);
    return { outcome: 'accepted' };
  }

  private devicePublish(topic: string, payload: string): Verdict {
    const gw = '';
    try {
      if (topic === 'v1/devices/me/telemetry') {
        this.store.storeTelemetry(gw, deviceTelemetry(parseJson(payload), Date.now()));
        return { outcome: 'accepted' };
      }
      if (topic === 'v1/devices/me/attributes') {
        this.store.storeClientAttributes(gw, parseJson(payload));
        return { outcome: 'accepted' };
      }
      const chunk = this.server.ota.request(topic, payload, javaParseInt);
      if (chunk) {
        if (chunk.kind === 'chunk') void this.server.send(chunk.topic, chunk.data).catch(() => undefined);
        if (chunk.kind === 'close') return { outcome: 'closed', reason: 'chunk size over the limit (closed without the error)' };
        if (chunk.kind !== 'error') return { outcome: 'accepted' };
        // sendOtaPackageError: the error on v2/fw/error, then the session is closed (no PUBACK)
        void this.server.send(chunk.topic, chunk.error).catch(() => undefined);
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
        this.server.rpcs.settle('', id, data);
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
        part('client', this.store.attrMap(this.store.clientAttributes, gw), list('clientKeys'));
        part('shared', this.store.attrMap(this.store.sharedAttributes, gw), list('sharedKeys'));
        void this.server.send(`v1/devices/me/attributes/response/${id}`, `{${parts.join(',')}}`).catch(() => undefined);
        return { outcome: 'accepted' };
      }
      return { outcome: 'accepted' }; // unknown device topic: PUBACK (TOPIC_NAME_INVALID under MQTT 5)
    } catch (err) {
      if (err instanceof GsonAccessError || err instanceof JsonSyntaxError || err instanceof TbConversionError || err instanceof HandlerError)
        return { outcome: 'closed', reason: err.message };
      throw err;
    }
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
