import mqtt, { type MqttClient } from 'mqtt';

/**
 * The platform's side of firmware chunk delivery, as ThingsBoard's MQTT transport does it
 * (MqttTransportHandler.getOtaPackageCallback + OtaPackageDataCache.get), on a real broker:
 * - `<prefix>/request/{requestId}/chunk/{n}` carries the chunk size as decimal text; an empty payload reuses the
 *   size last given for that request id; 0 means the whole package;
 * - the answer on `<prefix>/response/{requestId}/chunk/{n}` is bytes [n·size, min(total,(n+1)·size)), empty past
 *   the end;
 * - a size over `maxPayloadBytes` is answered with PAYLOAD_TOO_LARGE on `<prefix>/error`.
 * Faults for tests: `dropOnce` answers nothing the first time a chunk is asked for.
 */
export class OtaServerDouble {
  private client: MqttClient | null = null;
  private readonly chunkSizes = new Map<string, number>();
  package: Buffer = Buffer.alloc(0);
  /** chunks whose first request gets no answer */
  readonly dropOnce = new Set<number>();
  /** every request seen: request id, chunk, size */
  readonly requests: Array<{ requestId: string; chunk: number; size: number }> = [];
  bytesServed = 0;
  /** called before each answer; a test cuts the broker from here */
  onRequest: (chunk: number) => void = () => {};

  constructor(
    private readonly url: string,
    private readonly prefix = 'v2/fw',
    private readonly maxPayloadBytes = 65536,
  ) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.url, {
      clientId: `ota-double-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      reconnectPeriod: 100,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', () => {});
    // Subscribed again after every reconnect (the broker may be restarted by a test).
    client.on('connect', () => client.subscribe(`${this.prefix}/request/+/chunk/+`, { qos: 1 }));
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await new Promise<void>((resolve, reject) =>
      client.subscribe(`${this.prefix}/request/+/chunk/+`, { qos: 1 }, (err) =>
        err ? reject(err) : resolve(),
      ),
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
    c.on('message', (topic, payload) => {
      if (topics.includes(topic)) onMessage(topic, payload.toString('utf8'));
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
    const m = new RegExp(`^${this.prefix}/request/([^/]+)/chunk/(\\d+)$`).exec(topic);
    if (!m) return;
    const [, requestId, chunkText] = m;
    const chunk = Number(chunkText);
    const text = payload.toString('utf8');
    let size = text === '' ? 0 : Number.parseInt(text, 10);
    if (size > 0) this.chunkSizes.set(requestId, size);
    else size = this.chunkSizes.get(requestId) ?? 0;
    this.requests.push({ requestId, chunk, size });
    if (size > this.maxPayloadBytes) {
      void this.publish(`${this.prefix}/error`, 'PAYLOAD_TOO_LARGE');
      return;
    }
    this.onRequest(chunk);
    if (this.dropOnce.delete(chunk)) return;
    let bytes: Buffer;
    if (size < 1) bytes = this.package;
    else {
      const start = size * chunk;
      bytes =
        start < this.package.length
          ? this.package.subarray(start, Math.min(this.package.length, start + size))
          : Buffer.alloc(0);
    }
    this.bytesServed += bytes.length;
    this.client?.publish(`${this.prefix}/response/${requestId}/chunk/${chunk}`, bytes, { qos: 1 });
  }
}
