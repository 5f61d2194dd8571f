import * as net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** What the application says about one inbound PUBLISH (MQTT 3.1.1: a PUBACK carries no reason code). */
export type PublishAnswer = 'puback' | 'puback-then-close' | 'close' | 'flush-then-close';

export interface EndpointHooks {
  /** CONNECT: true to accept; false answers CONNACK "not authorized" (5) and closes */
  authenticate(username: string | undefined): boolean;
  onConnect(session: MqttSession): void;
  onClose(session: MqttSession): void;
  onPublish(session: MqttSession, topic: string, payload: Buffer): PublishAnswer;
  /** a packet whose remaining length (variable header + payload) is over this is a decoding failure: closed */
  maxRemainingLength: number;
  onTooLarge(session: MqttSession, length: number): void;
}

/** One client connection. */
export class MqttSession {
  connected = false;
  readonly subscriptions = new Map<string, 0 | 1>();
  private nextId = 1;

  constructor(readonly socket: net.Socket) {}

  write(p: Packet): void {
    if (!this.socket.destroyed) this.socket.write(mqttPacket.generate(p));
  }

  /** Sends at the QoS of the best matching subscription (capped at 1); false when not subscribed. */
  deliver(topic: string, payload: Buffer): boolean {
    let qos: 0 | 1 | null = null;
    for (const [filter, q] of this.subscriptions) if (topicMatches(filter, topic)) qos = qos === null ? q : (Math.max(qos, q) as 0 | 1);
    if (qos === null || !this.connected) return false;
    const messageId = qos === 1 ? this.nextId : undefined;
    if (qos === 1) this.nextId = (this.nextId % 65535) + 1;
    this.write({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, ...(messageId ? { messageId } : {}) });
    return true;
  }
}

/** MQTT topic filter match (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * A small MQTT 3.1.1 server (mqtt-packet codec, the one mqtt.js and aedes use) where the application decides,
 * per PUBLISH, between PUBACK, PUBACK-then-close and close-without-PUBACK, as ThingsBoard's transport does.
 * Nothing a client publishes is routed to other clients: the server is the only publisher.
 */
export class MqttEndpoint {
  private server: net.Server | null = null;
  readonly sessions = new Set<MqttSession>();

  constructor(private readonly hooks: EndpointHooks) {}

  async listen(port: number, host: string): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return (server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    const server = this.server;
    this.server = null;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private accept(socket: net.Socket): void {
    const session = new MqttSession(socket);
    this.sessions.add(session);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => this.packet(session, p));
    parser.on('error', () => socket.destroy());
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sessions.delete(session);
      if (session.connected) {
        session.connected = false;
        this.hooks.onClose(session);
      }
    });
  }

  private packet(s: MqttSession, p: Packet): void {
    if (s.socket.destroyed) return;
    if ((p.length ?? 0) > this.hooks.maxRemainingLength) {
      this.hooks.onTooLarge(s, p.length ?? 0);
      return void s.socket.destroy(); // netty's MqttDecoder fails the message; the transport closes the channel
    }
    if (!s.connected && p.cmd !== 'connect') return void s.socket.destroy();
    switch (p.cmd) {
      case 'connect':
        if (s.connected) return void s.socket.destroy(); // a second CONNECT is a protocol violation
        if (!this.hooks.authenticate(p.username)) {
          s.write({ cmd: 'connack', returnCode: 5, sessionPresent: false });
          s.socket.end();
          return;
        }
        s.connected = true;
        s.write({ cmd: 'connack', returnCode: 0, sessionPresent: false });
        this.hooks.onConnect(s);
        return;
      case 'subscribe':
        for (const sub of p.subscriptions) s.subscriptions.set(sub.topic, sub.qos >= 1 ? 1 : 0);
        s.write({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((sub) => (sub.qos >= 1 ? 1 : 0)) });
        return;
      case 'unsubscribe':
        for (const t of p.unsubscriptions) s.subscriptions.delete(t);
        s.write({ cmd: 'unsuback', messageId: p.messageId, granted: [] });
        return;
      case 'publish': {
        const answer = this.hooks.onPublish(s, p.topic, Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload));
        if (answer === 'close') return void s.socket.destroy();
        // what was written for this message (an error reply) goes out first, no PUBACK (Netty's writeAndFlush + close)
        if (answer === 'flush-then-close') return void s.socket.end();
        if (p.qos > 0 && p.messageId !== undefined) s.write({ cmd: 'puback', messageId: p.messageId });
        if (answer === 'puback-then-close') s.socket.end();
        return;
      }
      case 'pingreq':
        s.write({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        s.socket.end();
        return;
      default:
        return; // PUBACK for our QoS 1 deliveries: nothing is re-sent, so nothing to track
    }
  }
}
