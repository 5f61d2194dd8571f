import mqtt, { type MqttClient } from 'mqtt';
import type { EventBus } from '../event-bus';
import type { OutboxRow, OutboxStore } from '../store/outbox-store';

export interface PublisherOptions {
  url: string;
  gatewayId: string;
  baseTopic: string;
  clientId?: string;
  username?: string;
  password?: string;
  /** Batch bounds (DESIGN §6): whichever is hit first closes a batch. */
  batchMaxRows: number;
  batchMaxBytes: number;
  batchDelayMs: number;
}

export interface PublisherStatus {
  connected: boolean;
  published: number;
  lastAckAt: number | null;
  error: string | null;
}

/**
 * Re-checked at publish time: returns what may leave the gateway for a queued row (possibly minimised further,
 * e.g. trigger channels re-filtered), or null when its scope lost consent after it was queued.
 */
export type PublishGate = (row: OutboxRow) => unknown | null;

const TOPIC_OF: Record<string, string> = { signal: 'signals', consent: 'consent', telemetry: 'telemetry' };
const LIST_KEY: Record<string, string> = { signal: 'signals', consent: 'receipts', telemetry: 'telemetry' };

/**
 * Store-and-forward drain of the outbox to MQTT, `generic` profile topics (DESIGN §6). One batch is in flight at a
 * time so order is kept; rows are deleted only in the PUBACK callback. mqtt.js's in-memory queue is not trusted
 * for durability: on reconnect we simply re-read the outbox.
 */
export class OutboxPublisher {
  private client: MqttClient | null = null;
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  readonly status: PublisherStatus = { connected: false, published: 0, lastAckAt: null, error: null };
  private unsubscribe: (() => void) | null = null;
  droppedNoConsent = 0;

  constructor(
    private readonly opts: PublisherOptions,
    private readonly outbox: OutboxStore,
    private readonly gate: PublishGate,
    private readonly bus: EventBus,
  ) {}

  private topic(leaf: string): string {
    return `${this.opts.baseTopic}/${this.opts.gatewayId}/${leaf}`;
  }

  async start(): Promise<void> {
    const stateTopic = this.topic('state');
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId ?? `edge-agent-${this.opts.gatewayId}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      will: { topic: stateTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      this.status.connected = true;
      this.status.error = null;
      this.inFlight = false;
      client.publish(stateTopic, 'online', { qos: 1, retain: true });
      this.schedule(0);
    });
    client.on('close', () => {
      this.status.connected = false;
    });
    client.on('error', (err) => {
      this.status.error = err.message;
    });
    this.unsubscribe = this.bus.on('outbox', () => this.schedule(this.opts.batchDelayMs));
  }

  private schedule(delay: number): void {
    if (this.timer !== null || this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, delay);
  }

  /** Publishes the next batch if connected and nothing is in flight. */
  private drain(): void {
    const client = this.client;
    if (!client || !this.status.connected || this.inFlight) return;
    const rows = this.outbox.peek(this.opts.batchMaxRows);
    if (rows.length === 0) return;
    // One batch = a run of rows of the same kind, in outbox order (order is kept across kinds too).
    const kind = rows[0].kind;
    const send: OutboxRow[] = [];
    const items: unknown[] = [];
    const skipped: number[] = [];
    let bytes = 0;
    for (const r of rows) {
      if (r.kind !== kind) break;
      const item = this.gate(r);
      if (item === null) {
        skipped.push(r.id);
        continue;
      }
      if (send.length > 0 && bytes + r.bytes > this.opts.batchMaxBytes) break;
      send.push(r);
      items.push(item);
      bytes += r.bytes;
    }
    if (skipped.length > 0) {
      // Consent withdrawn since queueing: never sent, counted.
      this.outbox.remove(skipped);
      this.droppedNoConsent += skipped.length;
    }
    if (send.length === 0) {
      this.schedule(0);
      return;
    }
    const payload = JSON.stringify({ gateway: this.opts.gatewayId, batch: send[0].id, [LIST_KEY[kind] ?? kind]: items });
    this.inFlight = true;
    client.publish(this.topic(TOPIC_OF[kind] ?? kind), payload, { qos: 1 }, (err) => {
      this.inFlight = false;
      if (err) {
        this.status.error = err.message;
        return; // rows stay; retried after reconnect
      }
      this.outbox.remove(send.map((r) => r.id));
      this.status.published += send.length;
      this.status.lastAckAt = Date.now();
      this.schedule(0);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    const c = this.client;
    this.client = null;
    if (!c) return;
    if (c.connected) {
      await new Promise<void>((resolve) => c.publish(this.topic('state'), 'offline', { qos: 1, retain: true }, () => resolve()));
    }
    await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
    this.status.connected = false;
  }
}
