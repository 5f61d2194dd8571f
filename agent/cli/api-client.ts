import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

export class ApiUnreachable extends Error {}

/** A small client for the agent's local API (GET and token-authenticated POST), used by CLI commands. */
export function apiRequest(
  base: string,
  method: 'GET' | 'POST',
  route: string,
  opts: { body?: unknown; token?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown }> {
  const url = new URL(route, base.endsWith('/') ? base : base + '/');
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        timeout: opts.timeoutMs ?? 3000,
        headers: {
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
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
            reject(new Error(`the API at ${base} answered with something that is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new ApiUnreachable('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(err instanceof ApiUnreachable || err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? new ApiUnreachable(err.message) : err),
    );
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export function readApiToken(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  } catch {
    return undefined;
  }
}
