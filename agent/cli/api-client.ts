import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { StatusDocument, SyncDocument } from '../api/status';
import { applyEnvOverrides, CONFIG_SCHEMA, type AgentConfig } from '../config';
import { findConfigPath } from './config-path';
import { CliError } from './cli-error';
import { loadConfigOrExit } from './commands/config-command';

/** Nothing answers at the agent's address: the one wording every command uses, with what to do. */
export class AgentNotRunning extends CliError {
  constructor(
    readonly base: string,
    where: string,
  ) {
    super(
      `the agent is not running (nothing answers at ${base}, ${where}) — start it with: edge-agent run (or \`sudo systemctl start edge-agent\`), or check --config and api.listen`,
      1,
    );
  }
}

/** The agent answered, but with an error status: its own message, never mistaken for a document. */
export class AgentRefused extends CliError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message, status === 400 ? 2 : 1);
  }
}

export interface ApiReply<T> {
  status: number;
  body: T;
}

/** The agent's address when no config file is found: the schema's default, or EDGE_AGENT_API_LISTEN. */
export function defaultApiListen(env: NodeJS.ProcessEnv = process.env): string {
  const doc: { api?: { listen?: unknown } } = {};
  applyEnvOverrides(doc, Object.fromEntries(Object.entries(env).filter(([k]) => k === 'EDGE_AGENT_API_LISTEN')));
  return typeof doc.api?.listen === 'string' ? doc.api.listen : CONFIG_SCHEMA.properties.api.properties.listen.default;
}

export function readApiToken(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const errorOf = (body: unknown, status: number): string =>
  (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
    ? (body as { error: string }).error
    : undefined) ?? `HTTP ${status}`;

/**
 * The one client for the running agent's local API, with a typed call per route the CLI uses. GETs honour the
 * HTTP status (an error reply throws AgentRefused); nothing answering throws AgentNotRunning.
 */
export class AgentClient {
  constructor(
    readonly base: string,
    /** where the address came from, for the "not running" message */
    readonly where: string,
    private readonly token?: string,
  ) {}

  /** At the config's api.listen, with the token from its data directory. */
  static forConfig(config: AgentConfig, file?: string): AgentClient {
    return new AgentClient(`http://${config.api.listen}`, `api.listen in ${file ?? 'the config'}`, readApiToken(config.gateway.dataDir));
  }

  /**
   * Finds the running agent for commands that only read it: --url, else the config file's api.listen, else (no
   * config file anywhere) the default local address, so `edge-agent status` works next to `npm start`.
   */
  static locate(opts: { config?: string; url?: string }, env: NodeJS.ProcessEnv = process.env): AgentClient {
    if (opts.url) return new AgentClient(opts.url.replace(/\/$/, ''), 'from --url');
    const file = findConfigPath(opts.config, env);
    if (file === null) return new AgentClient(`http://${defaultApiListen(env)}`, 'the default address: no config file found');
    return AgentClient.forConfig(loadConfigOrExit(file, env).config, file);
  }

  status(timeoutMs?: number): Promise<StatusDocument> {
    return this.get<StatusDocument>('api/status', timeoutMs);
  }

  sync(): Promise<SyncDocument> {
    return this.get<SyncDocument>('api/sync');
  }

  consent<E>(): Promise<{ entries: E[] }> {
    return this.get<{ entries: E[] }>('api/consent');
  }

  /** Drains the outbox, waiting up to timeoutMs on the agent's side. */
  async flushSync(timeoutMs: number): Promise<{ drained: boolean; pending: number; tookMs: number; sync: SyncDocument }> {
    return this.ok(await this.request('POST', 'api/sync/flush', { timeoutMs }, timeoutMs + 5000), 'the agent did not flush');
  }

  async reload(): Promise<{ startedAt: string }> {
    return this.ok(await this.request('POST', 'api/reload', undefined), 'the agent did not reload', ' — restart it (`sudo systemctl restart edge-agent`)');
  }

  async changeConsent<T>(body: Record<string, unknown>): Promise<T> {
    return this.ok(await this.request('POST', 'api/consent', body), 'the agent refused the change');
  }

  /** A device command; 504 (not acked in time) is an answer, not a failure. */
  async deviceCommand<T>(device: string, body: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const res = await this.request('POST', `api/devices/${encodeURIComponent(device)}/command`, body, timeoutMs);
    if (res.status === 504) return res.body as T;
    return this.ok(res, 'the agent refused the command');
  }

  /** Any GET route; an error status throws AgentRefused with the agent's message. */
  async get<T>(route: string, timeoutMs?: number): Promise<T> {
    return this.ok(await this.request('GET', route, undefined, timeoutMs), `the agent answered ${route} with an error`);
  }

  private ok<T>(res: ApiReply<unknown>, what: string, hint = ''): T {
    if (res.status >= 200 && res.status < 300) return res.body as T;
    throw new AgentRefused(res.status, `${what}: ${errorOf(res.body, res.status)}${hint}`);
  }

  /** One request, status not interpreted (for callers and tests that need the raw reply). */
  request(method: 'GET' | 'POST', route: string, body: unknown, timeoutMs = 3000): Promise<ApiReply<unknown>> {
    const url = new URL(route, this.base.endsWith('/') ? this.base : this.base + '/');
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          timeout: timeoutMs,
          headers: {
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 500, body: text ? (JSON.parse(text) as unknown) : null });
            } catch {
              reject(new CliError(`the API at ${this.base} answered ${route} with something that is not JSON (HTTP ${res.statusCode}) — is that the agent?`));
            }
          });
        },
      );
      const unreachable = new AgentNotRunning(this.base, this.where);
      req.on('timeout', () => req.destroy(unreachable));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(err === unreachable || err.code === 'ECONNREFUSED' || err.code === 'ENOENT' || err.code === 'ECONNRESET' ? unreachable : err),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}
