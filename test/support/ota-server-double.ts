import mqtt, { type MqttClient } from 'mqtt';
import { OtaPackageServer } from './thingsboard-double/ota-package-server';

const decimal = (s: string): number => {
  const n = Number.parseInt(s, 10);
  if (!Number.isFinite(n)) throw new Error(`"${s}" is not a number`);
  return n;
};

/**
 * The platform's side of firmware chunk delivery on a real broker (a platform client, not the broker itself):
 * ThingsBoard's scheme as its MQTT transport serves it (OtaPackageServer, shared with the ThingsBoard double)
 * under `prefix`, e.g. the generic profile's `<base>/<gatewayId>/firmware`, or `<base>/+/firmware` to serve a
 * whole fleet from one client. A size over `maxPayloadBytes` is answered with PAYLOAD_TOO_LARGE on
 * `<prefix>/error` (a broker does not close a client for it).
 */
export class OtaServerDouble {
  private client: MqttClient | null = null;
  readonly server: OtaPackageServer;

  constructor(
    private readonly url: string,
    prefix = 'v2/fw',
    maxPayloadBytes = 65536,
  ) {
    this.server = new OtaPackageServer(maxPayloadBytes, prefix);
    this.package = Buffer.alloc(0);
  }

  /** The package served; a new one is served from the next request id on. */
  set package(data: Buffer) {
    this.server.pkg = { title: '', version: '', checksumAlgorithm: 'SHA256', data };
    this.server.newSession();
  }

  /** chunks whose first request gets no answer */
  get dropOnce(): Set<number> {
    return this.server.dropOnce;
  }
  /** every request seen: request id, chunk, size */
  get requests(): OtaPackageServer['requests'] {
    return this.server.requests;
  }
  get bytesServed(): number {
    return this.server.bytesServed;
  }
  /** chunks from this index on are not answered (a stalled server); null: all are */
  set stallFrom(chunk: number | null) {
    this.server.stallFrom = chunk;
  }
  /** called before each answer; a test cuts the broker from here */
  set onRequest(hook: (chunk: number) => void) {
    this.server.onRequest = hook;
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.url, {
      clientId: `ota-double-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      reconnectPeriod: 100,
    });
    this.client = client;
    const filter = this.server.requestFilter;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', () => {});
    // Subscribed again after every reconnect (the broker may be restarted by a test).
    client.on('connect', () => client.subscribe(filter, { qos: 1 }));
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await new Promise<void>((resolve, reject) =>
      client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync(true);
  }

  /** Records what the gateway publishes on `topics` (answers, state), as the platform would see it. */
  async watch(topics: string[], onMessage: (topic: string, payload: string) => void): Promise<void> {
    const c = this.client!;
    const match = (topic: string): boolean =>
      topics.some((f) => new RegExp(`^${f.split('/').map((l) => (l === '+' ? '[^/]+' : l.replace(/[.*?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`).test(topic));
    c.on('message', (topic, payload) => {
      if (match(topic)) onMessage(topic, payload.toString('utf8'));
    });
    await new Promise<void>((resolve, reject) =>
      c.subscribe(topics, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Publishes as the server does towards a device (attribute updates). */
  publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client!.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve())),
    );
  }

  private onMessage(topic: string, payload: Buffer): void {
    let answer;
    try {
      answer = this.server.request(topic, payload.toString('utf8'), decimal);
    } catch {
      return; // not a number: ThingsBoard logs and drops it
    }
    // (a platform client cannot close the gateway's connection to the broker: `close` is silence here)
    if (!answer || answer.kind === 'none' || answer.kind === 'close') return;
    if (answer.kind === 'error') void this.publish(answer.topic, answer.error).catch(() => undefined);
    else this.client?.publish(answer.topic, answer.data, { qos: 1 });
  }
}
