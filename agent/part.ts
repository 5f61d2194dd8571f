import type { Logger } from './logger';

/**
 * A piece of the agent with a lifecycle (DESIGN §2, like Zigbee2MQTT's extensions). `start` receives what the
 * parts before it provide and returns what it provides to the parts after it; `stop` releases everything `start`
 * acquired, also when `start` failed half-way (so it must cope with resources it never got).
 */
export interface Part<In, Out> {
  readonly name: string;
  start(ctx: In): Promise<Out>;
  stop(): Promise<void>;
}

export type PartState = 'stopped' | 'running' | 'failed';

export interface PartStatus {
  name: string;
  state: PartState;
  error: string | null;
}

interface Started {
  part: Part<never, unknown>;
  status: PartStatus;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Starts parts in the order asked and stops them in reverse. An essential part that fails stops every part
 * started so far (itself included) and the error propagates; an optional part that fails is stopped, reported in
 * `statuses` and left out, and the rest keep running.
 */
export class Lifecycle {
  private readonly started: Started[] = [];
  readonly statuses: PartStatus[] = [];

  constructor(private readonly log: Logger) {}

  /** Starts an essential part; on failure everything started is stopped before the error is rethrown. */
  async start<In, Out, C extends In>(part: Part<In, Out>, ctx: C): Promise<C & Out> {
    const status = this.track(part);
    try {
      const out = await part.start(ctx);
      status.state = 'running';
      return { ...ctx, ...out };
    } catch (err) {
      status.state = 'failed';
      status.error = message(err);
      await this.stop();
      throw err;
    }
  }

  /** Starts an optional part: null when it failed (it is stopped at once and its failure is in `statuses`). */
  async startOptional<In, Out, C extends In>(part: Part<In, Out>, ctx: C): Promise<Out | null> {
    const status = this.track(part);
    try {
      const out = await part.start(ctx);
      status.state = 'running';
      return out;
    } catch (err) {
      status.state = 'failed';
      status.error = message(err);
      this.log.error(`part ${part.name} failed to start`, { error: status.error });
      await this.stopOne(this.started.pop() as Started);
      return null;
    }
  }

  /** Stops every started part, last started first; a part that fails to stop does not keep the others running. */
  async stop(): Promise<void> {
    for (let s = this.started.pop(); s; s = this.started.pop()) await this.stopOne(s);
  }

  private track(part: Part<never, unknown>): PartStatus {
    const status: PartStatus = { name: part.name, state: 'stopped', error: null };
    this.statuses.push(status);
    this.started.push({ part, status });
    return status;
  }

  private async stopOne({ part, status }: Started): Promise<void> {
    try {
      await part.stop();
    } catch (err) {
      this.log.warn(`part ${part.name} did not stop cleanly`, { error: message(err) });
    }
    if (status.state === 'running') status.state = 'stopped';
  }
}
