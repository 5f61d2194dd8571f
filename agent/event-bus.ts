import { EventEmitter } from 'node:events';
import type { Evaluation } from './engagement/types';

/** Events parts of the agent publish to each other (Zigbee2MQTT-style typed bus). */
export interface AgentEvents {
  /** A frame was accepted and is durable. */
  ingested: { device: string; kind: 'reading' | 'event'; at: number };
  evaluation: Evaluation;
  trigger: { profile: string; campaign: string; channels: string[]; index: number; at: number; signalId: string };
  consent: { scope: string; subject: string; target: string; granted: boolean; source: string; purged: number };
  device: { id: string; connected: boolean; detail?: string };
  /** The household's say on a firmware update from the device's own button, durable (0x06 firmware-choice). */
  'firmware-choice': { device: string; choice: 'defer' | 'never' | 'allow'; until: number | null };
  /** A device acked a gateway frame (commands: delivery confirmation). */
  'device-ack': { device: string; seq: number };
  /** New rows were queued in the outbox (wakes the sync part). */
  outbox: { rows: number };
  /** The agent is about to stop its parts: links closing from now on are not link losses. */
  stopping: { at: number };
}

type Listener<T> = (payload: T) => void;

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(50);
  }

  emit<K extends keyof AgentEvents>(event: K, payload: AgentEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  on<K extends keyof AgentEvents>(event: K, listener: Listener<AgentEvents[K]>): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
}
