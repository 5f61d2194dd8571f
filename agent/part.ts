/** A piece of the agent with a lifecycle; constructors do nothing, start/stop do the work (DESIGN §2). */
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type PartState = 'stopped' | 'running' | 'failed';

export interface PartStatus {
  name: string;
  state: PartState;
  error: string | null;
}
