import { jsonText, parseJson } from './gson-json';
import { MqttEndpoint, type MqttSession, type PublishAnswer } from './mqtt-endpoint';
import { OtaPackageServer, otaChecksum, type OtaPackage } from './ota-package-server';
import { PendingRpcs } from './pending-rpcs';
import { TbPublishHandler, type Verdict } from './tb-publish-handler';
import { TbStore } from './tb-store';
import { tbValueJson, tbValueOf, type TbValue } from './tb-values';

export type { Verdict } from './tb-publish-handler';
export type { DeviceRecord } from './tb-store';

export interface Rejection {
  topic: string;
  payload: string;
  outcome: 'acked-then-closed' | 'closed';
  reason: string;
}

/**
 * A ThingsBoard-faithful MQTT endpoint for tests: one gateway device (access token as the MQTT username),
 * the gateway API (`v1/gateway/*`) and the device API of the gateway itself (`v1/devices/me/*`), parsed the
 * way ThingsBoard's MQTT transport does (see README.md next to this file). Telemetry is stored by
 * (device, key, ts) with upsert; attribute requests are answered; shared-attribute updates/deletions and
 * server-side RPC are sent in the server's shapes. Closes it makes are counted.
 */
export class ThingsboardDouble extends TbStore {
  private endpoint: MqttEndpoint | null = null;
  private portNo = 0;
  private gateway: MqttSession | null = null;

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
  private gatewayRpcSeq = 0;
  private readonly rpcs = new PendingRpcs();
  /** firmware packages and chunk requests of the gateway's own session (ota-package-server.ts) */
  readonly ota = new OtaPackageServer();
  private readonly parser = new TbPublishHandler(this, { send: (topic, payload) => this.send(topic, payload), rpcs: this.rpcs, ota: this.ota });

  constructor(
    private readonly opts: {
      accessToken?: string;
      host?: string;
      /** transport.mqtt.max_payload_size (default 65536): the limit on a packet's remaining length */
      maxPayloadSize?: number;
    } = {},
  ) {
    super();
    this.ota.maxPayloadSize = opts.maxPayloadSize ?? 65536;
  }

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
    this.rpcs.rejectAll(new Error('server stopped'));
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

  // (what the server stores and how it is queried: TbStore, the base class)

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
    return this.rpcs.await(device, id, timeoutMs, () => this.send('v1/gateway/rpc', payload));
  }

  /** Server-side RPC to the gateway device itself: `v1/devices/me/rpc/request/<id> {"method","params"}`. */
  rpcToGateway(method: string, params: unknown, timeoutMs = 10_000): Promise<unknown> {
    const id = ++this.gatewayRpcSeq;
    return this.rpcs.await('', id, timeoutMs, () => this.send(`v1/devices/me/rpc/request/${id}`, JSON.stringify({ method, params })));
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

  /** The verdict on one PUBLISH and its effects on the store (table tests call it without a connection). */
  handle(topic: string, payload: string): Verdict {
    return this.parser.handle(topic, payload);
  }

  /** Debug view of a message's JSON as the server read it. */
  static readAs(payload: string): string {
    return jsonText(parseJson(payload));
  }
}
