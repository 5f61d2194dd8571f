import type { AgentConfig } from '../config';
import type { EventBus } from '../event-bus';
import type { Logger } from '../logger';
import type { StatusBoard } from './status-board';

/** What every part may use: given by the root before the first part starts. */
export interface BaseContext {
  config: AgentConfig;
  logger: Logger;
  clock: () => number;
  bus: EventBus;
  status: StatusBoard;
}

/** A part's periodic work: unref'd (it never keeps the process alive) and cleared together when the part stops. */
export class Intervals {
  private readonly timers: NodeJS.Timeout[] = [];

  every(ms: number, work: () => void): NodeJS.Timeout {
    const t = setInterval(work, ms);
    t.unref();
    this.timers.push(t);
    return t;
  }

  clear(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
