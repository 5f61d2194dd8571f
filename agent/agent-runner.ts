import { Agent } from './controller';
import { ConfigError, loadConfig, type AgentConfig } from './config';
import type { Logger } from './logger';

export type ReloadAnswer = { ok: true } | { ok: false; error: string };

/**
 * Owns the running Agent of `edge-agent run` and replaces it when the config file changes (a device paired or
 * unpaired, asked through POST /api/reload or SIGHUP). The file is validated before anything stops, so an invalid
 * edit leaves the running agent as it was. A swap stops the old agent completely (frames accepted are committed
 * and acked, ports and the API closed) before the new one opens them; devices retransmit what was not acked in
 * between, so nothing is lost. If the new config cannot start, the previous one is started again.
 */
export class AgentRunner {
  private agent: Agent | null = null;
  private config: AgentConfig | null = null;
  private swapping: Promise<void> | null = null;
  reloads = 0;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  get current(): Agent | null {
    return this.agent;
  }

  async start(config: AgentConfig): Promise<Agent> {
    const agent = new Agent(config, { logger: this.logger, reload: () => this.requestReload() });
    await agent.start(); // a failed start has stopped what it started
    this.agent = agent;
    this.config = config;
    return agent;
  }

  /** Validates the file now (the answer says why it is refused); the swap itself happens just after. */
  requestReload(): ReloadAnswer {
    if (this.swapping) return { ok: false, error: 'a reload is already under way' };
    let next: AgentConfig;
    try {
      next = loadConfig(this.file).config;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const first = err.issues[0];
      return { ok: false, error: `${this.file} is invalid, nothing changed: ${first ? `${first.path}: ${first.message}` : err.message}` };
    }
    // After the HTTP answer has gone out: the swap closes the API server that carries it.
    this.swapping = new Promise<void>((resolve) => setTimeout(resolve, 50))
      .then(() => this.swap(next))
      .finally(() => {
        this.swapping = null;
      });
    return { ok: true };
  }

  private async swap(next: AgentConfig): Promise<void> {
    const previous = this.config;
    this.logger.info('reloading the config', { file: this.file, devices: next.devices.length });
    await this.agent?.stop();
    this.agent = null;
    try {
      await this.start(next);
      this.reloads++;
      this.logger.info('reloaded', { devices: next.devices.length });
    } catch (err) {
      this.logger.error('the new config did not start; back to the previous one', { error: err instanceof Error ? err.message : String(err) });
      if (previous) await this.start(previous);
    }
  }

  async stop(): Promise<void> {
    await this.swapping;
    await this.agent?.stop();
    this.agent = null;
  }
}
