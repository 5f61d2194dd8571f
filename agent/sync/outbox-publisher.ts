import type { MqttClient } from 'mqtt';
import { Backoff } from '../../drivers/backoff';
import type { UpstreamConfig } from '../config/types';
import type { EventBus } from '../event-bus';
import type { OutboxRow, OutboxStore } from '../store/outbox-store';
import type { DownlinkHandler } from './downlink-handler';
import { describeMqttError, mqttConnectOptions, redactedUrl } from './mqtt-connect-options';
import type { OutboxItem, Publication, SyncProfile } from './sync-profile';
import { mqttLibrary } from './mqtt-library';

/**
 * Re-checked at publish time: returns what may leave the gateway for a queued row (possibly minimised further,
 * e.g. trigger channels re-filtered), or null when its scope lost consent after it was queued.
 */
export type PublishGate = (row: OutboxRow) => unknown | null;

export interface PublisherStatus {
  connected: boolean;
  url: string;
  profile: string;
  published: number;
  messages: number;
  payloadBytes: number;
  lastAckAt: number | null;
  error: string | null;
  connects: number;
  inFlightRows: number;
  nextRetryAt: number | null;
}

/** Batches pipelined before the first PUBACK is needed; order is still kept (MQTT delivers in order per client). */
const MAX_IN_FLIGHT_BATCHES = 4;

interface Batch {
  pubs: Publication[];
  pendingAcks: number;
  lastRowId: number;
}

/**
 * Store-and-forward drain of the outbox over MQTT (DESIGN §6). Rows are read from SQLite, encoded by the profile,
 * published at QoS 1 and deleted only in their PUBACK callback. mqtt.js's in-memory store is never trusted: every
 * connection is a fresh client, and after a reconnect the drain simply starts again from the oldest row, so a
 * row is re-sent (same id) rather than lost. Reconnects use exponential backoff with full jitter.
 */
/**
 * Another user of the upstream connection (firmware updates, docs/firmware-updates.md): attached to every new
 * connection, detached when it closes; downlink topics it claims are its own and never reach the sync profile.
 */
export interface ConnectionUser {
  attach(client: MqttClient): void;
  detach(): void;
  claims(topic: string): boolean;
}

export class OutboxPublisher {
  private client: MqttClient | null = null;
  private readonly users: ConnectionUser[] = [];
  private generation = 0;
  private readonly inFlight: Batch[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly backoff: Backoff;
  private unsubscribe: (() => void) | null = null;
  /** highest row id published on this connection: the next batch starts after it */
  private sentUpTo = 0;
  /**
   * Acked rows are deleted in one transaction every few ms rather than one fsync per PUBACK; until then the
   * `sentUpTo` watermark keeps the drain past them (and a reconnect deletes them first). A crash in between
   * re-sends them: the same ids, which upstream dedupes.
   */
  private readonly acked = new Set<number>();
  private deleteTimer: NodeJS.Timeout | null = null;
  readonly status: PublisherStatus;
  droppedNoConsent = 0;

  constructor(
    private readonly upstream: UpstreamConfig,
    private readonly gatewayId: string,
    private readonly profile: SyncProfile,
    private readonly outbox: OutboxStore,
    private readonly gate: PublishGate,
    private readonly bus: EventBus,
    private readonly downlink: DownlinkHandler,
    private readonly gatewayStats: () => Record<string, number | string | boolean | null> = () => ({}),
  ) {
    this.backoff = new Backoff(upstream.reconnect.minMs, upstream.reconnect.maxMs);
    this.status = {
      connected: false,
      url: redactedUrl(upstream.url),
      profile: profile.name,
      published: 0,
      messages: 0,
      payloadBytes: 0,
      lastAckAt: null,
      error: null,
      connects: 0,
      inFlightRows: 0,
      nextRetryAt: null,
    };
  }

  /** Shares the connection with `user` from now on (attached at once if connected). */
  addUser(user: ConnectionUser): void {
    this.users.push(user);
    if (this.client && this.status.connected) user.attach(this.client);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.bus.on('outbox', () => this.schedule(this.upstream.batch.delayMs));
    this.connect();
    const gatewayTelemetry = this.profile.gatewayTelemetry?.bind(this.profile);
    if (gatewayTelemetry) {
      this.statsTimer = setInterval(() => {
        const c = this.client;
        if (c && this.status.connected) {
          const p = gatewayTelemetry(this.gatewayStats(), Date.now());
          c.publish(p.topic, p.payload, { qos: 1 });
        }
      }, 60_000);
      this.statsTimer.unref();
    }
  }

  private connect(): void {
    if (this.stopping) return;
    const gen = ++this.generation;
    const will = this.profile.will();
    let client: MqttClient;
    try {
      client = mqttLibrary().connect(
        this.upstream.url,
        mqttConnectOptions(this.upstream, this.gatewayId, will ? { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: will.retain } : undefined),
      );
    } catch (err) {
      this.status.error = err instanceof Error ? err.message : String(err);
      this.scheduleReconnect(gen);
      return;
    }
    this.client = client;
    client.on('connect', () => {
      if (gen !== this.generation) return;
      this.status.connected = true;
      this.status.error = null;
      this.status.connects++;
      this.status.nextRetryAt = null;
      this.backoff.reset();
      const subs = this.profile.subscriptions();
      if (subs.length > 0) client.subscribe(subs, { qos: 1 });
      for (const p of this.profile.onConnect()) client.publish(p.topic, p.payload, { qos: 1, retain: p.retain ?? false });
      for (const u of this.users) u.attach(client);
      this.schedule(0);
    });
    client.on('message', (topic, payload) => {
      if (gen === this.generation) this.onDownlink(client, topic, payload);
    });
    client.on('error', (err) => {
      if (gen === this.generation) this.status.error = describeMqttError(err as Error & { code?: string | number }, this.upstream.url);
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      this.status.connected = false;
      for (const u of this.users) u.detach();
      // Whatever was in flight without a PUBACK stays in the outbox and is re-sent from the oldest row.
      this.inFlight.length = 0;
      this.flushAcked(); // the re-send from the oldest row must not repeat what was acked
      this.sentUpTo = 0;
      this.status.inFlightRows = 0;
      client.removeAllListeners('message');
      client.end(true);
      this.scheduleReconnect(gen);
    });
  }

  private scheduleReconnect(gen: number): void {
    if (this.stopping || this.retry || gen !== this.generation) return;
    const delay = this.backoff.next();
    this.status.nextRetryAt = Date.now() + delay;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, delay);
  }

  private onDownlink(client: MqttClient, topic: string, payload: Buffer): void {
    if (this.users.some((u) => u.claims(topic))) return; // theirs: they listen on the client themselves
    for (const p of this.downlink.serve(this.profile, topic, payload)) {
      client.publish(p.topic, p.payload, { qos: 1 }, (err) => {
        if (err && this.client === client) this.status.error = `downlink reply not sent: ${err.message}`;
      });
    }
  }

  private schedule(delay: number): void {
    if (this.timer !== null || this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, delay);
  }

  /** Publishes batches while connected, up to MAX_IN_FLIGHT_BATCHES awaiting PUBACK. */
  private drain(): void {
    const client = this.client;
    if (!client || !this.status.connected) return;
    const gen = this.generation;
    while (this.inFlight.length < MAX_IN_FLIGHT_BATCHES) {
      const after = this.sentUpTo;
      const rows = this.outbox.peek(this.upstream.batch.maxRows, after);
      if (rows.length === 0) break;
      const items: OutboxItem[] = [];
      const skipped: number[] = [];
      let bytes = 0;
      let lastRowId = after;
      for (const r of rows) {
        const body = this.gate(r);
        if (body === null) {
          skipped.push(r.id); // consent withdrawn since queueing: never sent, counted
          lastRowId = r.id;
          continue;
        }
        if (items.length > 0 && bytes + r.bytes > this.upstream.batch.maxBytes) break;
        items.push({ row: r, body });
        bytes += r.bytes;
        lastRowId = r.id;
      }
      if (skipped.length > 0) {
        this.outbox.remove(skipped);
        this.droppedNoConsent += skipped.length;
      }
      if (items.length === 0) continue;
      const pubs = this.profile.encode(items, this.upstream.maxPayloadBytes);
      const batch: Batch = { pubs, pendingAcks: pubs.length, lastRowId };
      this.sentUpTo = lastRowId;
      this.inFlight.push(batch);
      this.status.inFlightRows += items.length;
      for (const p of pubs) {
        this.status.messages++;
        this.status.payloadBytes += Buffer.byteLength(p.payload);
        client.publish(p.topic, p.payload, { qos: 1, retain: p.retain ?? false }, (err) => this.onPuback(gen, batch, p, err));
      }
    }
  }

  private onPuback(gen: number, batch: Batch, p: Publication, err: Error | undefined): void {
    if (err) {
      if (gen === this.generation) this.status.error = err.message;
      return; // rows stay in the outbox; the next connection re-sends them
    }
    // A PUBACK means the broker has it, whatever connection we are on now.
    for (const id of p.rowIds) this.acked.add(id);
    if (this.acked.size >= 5000) this.flushAcked();
    else this.deleteTimer ??= setTimeout(() => this.flushAcked(), 20);
    this.status.published += p.rowIds.length;
    this.status.lastAckAt = Date.now();
    if (gen !== this.generation) return;
    this.status.inFlightRows = Math.max(0, this.status.inFlightRows - p.rowIds.length);
    batch.pendingAcks--;
    if (batch.pendingAcks === 0) {
      const i = this.inFlight.indexOf(batch);
      if (i >= 0) this.inFlight.splice(i, 1);
      this.schedule(0);
    }
  }

  private flushAcked(): void {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = null;
    if (this.acked.size === 0) return;
    this.outbox.remove([...this.acked]);
    this.acked.clear();
  }

  /** `edge-agent sync --now`: drain at once; resolves when the outbox is empty or the time is up. */
  async flushNow(timeoutMs: number): Promise<{ drained: boolean; pending: number }> {
    this.schedule(0);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.status.connected) {
      if (this.outbox.isEmpty() && this.inFlight.length === 0) return { drained: true, pending: 0 };
      await new Promise((r) => setTimeout(r, 20));
    }
    const pending = this.outbox.depth().pending;
    return { drained: pending === 0, pending };
  }

  /** Clean shutdown: no new batches, wait (bounded) for in-flight PUBACKs, say goodbye, disconnect. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retry) clearTimeout(this.retry);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.timer = this.retry = this.statsTimer = null;
    this.unsubscribe?.();
    const c = this.client;
    this.client = null;
    if (!c) {
      this.flushAcked();
      return;
    }
    const deadline = Date.now() + graceMs;
    while (this.inFlight.length > 0 && this.status.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.status.connected) {
      const bye = this.profile.onStop();
      await Promise.all(
        bye.map((p) => new Promise<void>((resolve) => c.publish(p.topic, p.payload, { qos: 1, retain: p.retain ?? false }, () => resolve()))),
      ).catch(() => undefined);
    }
    this.generation++;
    this.flushAcked();
    await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
    this.status.connected = false;
  }
}
