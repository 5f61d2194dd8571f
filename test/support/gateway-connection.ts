import mqtt, { type MqttClient } from 'mqtt';

/** What shares the agent's upstream connection (the firmware uplink, a package downloader). */
export interface ConnectionUser {
  attach(client: MqttClient): void;
  detach(): void;
}

/**
 * The gateway's connection as the agent's sync makes it: a fresh mqtt.js client for every connection (its
 * in-memory queue is never trusted: a publish of a closed connection is not sent again), the user attached on
 * connect and detached on close, a new connection 200 ms after one closes.
 */
export function connectGateway(
  url: string,
  user: ConnectionUser,
  username?: string,
): { first: Promise<void>; end: () => Promise<void> } {
  let current: MqttClient | null = null;
  let ended = false;
  let resolveFirst!: () => void;
  const first = new Promise<void>((r) => (resolveFirst = r));
  const open = (): void => {
    if (ended) return;
    const c = mqtt.connect(url, {
      username,
      clientId: `gw-${Math.random().toString(36).slice(2, 8)}`,
      reconnectPeriod: 0,
      connectTimeout: 2000,
    });
    current = c;
    c.on('error', () => {});
    c.on('connect', () => {
      user.attach(c);
      resolveFirst();
    });
    c.on('close', () => {
      if (current !== c) return;
      user.detach();
      c.end(true);
      setTimeout(open, 200);
    });
  };
  open();
  return {
    first,
    end: async () => {
      ended = true;
      await current?.endAsync(true);
    },
  };
}
