import * as net from 'node:net';
import { importEsm } from '../../firmware-bridge/esm-import';

interface AedesLike {
  handle: (stream: net.Socket) => unknown;
  close: (cb?: () => void) => void;
  on(event: 'publish', listener: (packet: { topic: string; payload: Buffer | string }, client: unknown) => void): unknown;
}
interface AedesModule {
  Aedes: { createBroker(opts?: object): Promise<AedesLike> };
}

/** An in-process MQTT broker (aedes) for the demo, so a newcomer needs no Mosquitto to see the upstream side. */
export class EmbeddedBroker {
  private server: net.Server | null = null;
  private broker: AedesLike | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Messages published by clients (the agent), by topic suffix, for the live view. */
  received = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async start(onPublish?: (topic: string, payload: Buffer) => void): Promise<void> {
    const { Aedes } = await importEsm<AedesModule>('aedes');
    const broker = await Aedes.createBroker();
    broker.on('publish', (packet, client) => {
      if (!client) return; // broker's own $SYS messages
      this.received++;
      onPublish?.(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
    });
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `port ${this.port} is in use — pass --broker-port to pick another for the embedded MQTT broker`
              : err.message,
          ),
        ),
      );
      server.listen(this.port, this.host, () => resolve());
    });
    this.server = server;
    this.broker = broker;
  }

  get url(): string {
    const a = this.server?.address() as net.AddressInfo | null;
    return `mqtt://${this.host}:${a ? a.port : this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
    this.server = null;
    this.broker = null;
  }
}
