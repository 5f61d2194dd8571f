import mqtt, { type MqttClient } from 'mqtt';
import { topicMatches } from '../../test/support/thingsboard-double/mqtt-endpoint';

/** How many messages may be on their way through the broker at once (Mosquitto queues 1,000 per client). */
const WINDOW = 400;
/** A window not fully delivered within this long counts its missing messages as lost. */
const WINDOW_TIMEOUT_MS = 20_000;

/** A topic an MQTT client may publish to (no wildcards, no NUL, not empty). */
const publishable = (topic: string): boolean => topic.length > 0 && !/[+#\u0000]/.test(topic);

/**
 * Publishes downlink messages to a real broker the agents are subscribed to, in windows: the next window goes out
 * when the agents have served the previous one (told by the campaign's observer), so the broker never has to
 * drop anything; messages never handed to an agent are counted as lost. What an agent serves that the campaign
 * did not publish (a ThingsBoard-profile agent hears its own replies on v1/gateway/rpc from a plain broker) is
 * checked like the rest but not counted here.
 */
export class BrokerFeed {
  /** published, not yet served: topic + NUL + payload → how many */
  private readonly pending = new Map<string, number>();
  private pendingCount = 0;
  private wake: (() => void) | null = null;
  private client: MqttClient | null = null;
  /** messages the campaign published that an agent served */
  served = 0;

  constructor(
    private readonly url: string,
    private readonly subscriptions: readonly string[],
  ) {}

  /** Called by the observer each time an agent's handler has served a message. */
  onServed(topic: string, payload: Buffer): void {
    const key = `${topic}\u0000${payload.toString('latin1')}`;
    const n = this.pending.get(key);
    if (n === undefined) return;
    if (n === 1) this.pending.delete(key);
    else this.pending.set(key, n - 1);
    this.pendingCount--;
    this.served++;
    if (this.pendingCount === 0 && this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
  }

  async connect(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, { clientId: `edge-fuzz-${process.pid}`, reconnectPeriod: 0 });
  }

  /** Whether an agent would receive a message on `topic` at all. */
  delivers(topic: string): boolean {
    return publishable(topic) && this.subscriptions.some((f) => topicMatches(f, topic));
  }

  /** Publishes `messages` (all deliverable) and waits until the agents have served them; returns how many were lost. */
  async send(messages: ReadonlyArray<{ topic: string; payload: Buffer }>): Promise<number> {
    const client = this.client;
    if (!client) throw new Error('fuzz: broker feed not connected');
    let lost = 0;
    for (let i = 0; i < messages.length; i += WINDOW) {
      const window = messages.slice(i, i + WINDOW);
      for (const m of window) {
        const key = `${m.topic}\u0000${m.payload.toString('latin1')}`;
        this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
        this.pendingCount++;
      }
      const delivered = new Promise<void>((resolve) => (this.wake = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, WINDOW_TIMEOUT_MS)));
      for (const m of window) client.publish(m.topic, m.payload, { qos: 1 });
      await Promise.race([delivered, timeout]);
      clearTimeout(timer);
      this.wake = null;
      lost += this.pendingCount; // not waited for twice
      this.pending.clear();
      this.pendingCount = 0;
    }
    return lost;
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
    this.client = null;
  }
}
