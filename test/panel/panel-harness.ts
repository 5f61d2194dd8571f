import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import type { AgentConfig, ConfigInput } from '../../agent/config';
import { testConfig } from '../support/test-config';
import { silentLogger } from '../../agent/logger';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE } from '../support/device-link';
import { tempDir } from '../support/temp-dir';

export const HELLO_WEARABLE = (id = 'wearable-1'): DeviceFrame => ({
  type: 'hello',
  seq: 0,
  body: { id, fw: '1.0', model: 'wearable', ch: [{ n: 1, k: 'heart_rate', c: 'health' }, { n: 2, k: 'event', c: 'usage' }] },
});

/** A household: a kitchen scale (usage) and a wearable (health, a special category), one campaign. */
export function householdConfig(dataDir: string, panel: NonNullable<NonNullable<ConfigInput['api']>['panel']> = {}, listen = '127.0.0.1:0'): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-panel',
    api: { listen, panel },
    devices: [
      { id: 'scale-1', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' },
      { id: 'wearable-1', transport: 'sim', model: 'wearable', profile: 'home-a' },
    ],
    campaigns: [{ id: 'coffee-reorder', qualify: { event: 'dispense' }, value: 72, threshold: 300, cooldown: '10m', channels: ['push', 'device'] }],
    engagement: { signalIntervalS: 0 },
    storage: { maxBytes: 1 << 28, groupCommitMs: 2 },
    consent: { grants: [{ profile: 'home-a', channel: 'push' }] },
  });
}

export interface PanelHousehold {
  agent: Agent;
  /** http://127.0.0.1:<port> of the local API */
  base: string;
  port: number;
  dataDir: string;
  pairingCode: () => string;
  apiToken: string;
  scale: DeviceLink;
  wearable: DeviceLink;
  stop: () => Promise<void>;
}

/** A real agent (real SQLite file in a temp dir, real HTTP API) with two in-process devices that said hello. */
export async function startHousehold(panel: Partial<NonNullable<AgentConfig['api']['panel']>> = {}, listen?: string): Promise<PanelHousehold> {
  const t = tempDir('edge-panel-');
  const agent = new Agent(householdConfig(t.dir, panel, listen), { logger: silentLogger, drivers: [] });
  await agent.start();
  const scale = new DeviceLink(agent, 'scale-1');
  const wearable = new DeviceLink(agent, 'wearable-1');
  agent.pipeline.onLink('scale-1', true, 'test');
  agent.pipeline.onLink('wearable-1', true, 'test');
  scale.send(HELLO_SCALE('scale-1'));
  wearable.send(HELLO_WEARABLE('wearable-1'));
  const address = agent.apiAddress!;
  return {
    agent,
    base: `http://${address}`,
    port: Number(address.split(':').at(-1)),
    dataDir: t.dir,
    pairingCode: () => fs.readFileSync(path.join(t.dir, 'panel-code'), 'utf8').trim(),
    apiToken: fs.readFileSync(path.join(t.dir, 'api-token'), 'utf8').trim(),
    scale,
    wearable,
    stop: async () => {
      await agent.stop();
      t.cleanup();
    },
  };
}

export const rowCount = (agent: Agent, table: 'readings' | 'events', device: string): number =>
  (agent.database.prepare(`SELECT count(*) AS n FROM ${table} WHERE device = ?`).get(device) as { n: number }).n;

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => unknown;
}

/**
 * A plain HTTP request with exactly the headers given (fetch would add or forbid Origin, Host, Sec-Fetch-*),
 * to play a hostile page, a form post or another program.
 */
export function rawRequest(
  base: string,
  method: string,
  route: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(route, base);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Signs in the way the page does (Origin of the panel itself) and returns what later requests need. */
export async function signIn(base: string, code: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const host = new URL(base).host;
  const r = await rawRequest(base, 'POST', '/panel/api/login', {
    headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  if (r.status !== 200) throw new Error(`sign-in failed: ${r.status} ${r.text}`);
  const setCookie = String(r.headers['set-cookie']?.[0] ?? '');
  return { cookie: setCookie.split(';')[0]!, csrf: (r.json() as { csrf: string }).csrf, setCookie };
}

/** The headers a same-origin fetch from the panel page carries on a change. */
export function pageHeaders(base: string, s: { cookie: string; csrf: string }): Record<string, string> {
  const host = new URL(base).host;
  return { host, origin: `http://${host}`, cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' };
}
