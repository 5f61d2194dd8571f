import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Agent } from '../../agent/controller';
import type { FuzzBudget, FuzzReport } from './fuzz-campaign';
import { HOUSEHOLD, PROTOTYPE_NAMES, deepJson, downlinkBodies, hostileValue } from './hostile-inputs';
import { ledgerProblems } from './ledger-invariants';

/**
 * The API and panel phase of the fuzz campaign: hostile HTTP requests to every route of a real agent's listener,
 * many at once, with and without credentials; counted as the campaign counts (fuzz-campaign.ts).
 */
interface ApiCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

function apiCases(port: number, token: string): fc.Arbitrary<ApiCase> {
  const good = `127.0.0.1:${port}`;
  const routes = fc.constantFrom(
    '/api/status', '/api/consent', '/api/consent/ledger', '/api/sync', '/api/sync/flush', '/api/reload', '/metrics', '/healthz',
    '/api/devices/scale-a/command', '/api/devices/%2e%2e%2f/command', '/api/devices/%ZZ/command',
    '/panel/', '/panel', '/panel/api/session', '/panel/api/login', '/panel/api/state', '/panel/api/history', '/panel/api/consent',
    '/panel/api/logout', '/panel/api/devices/scale-a/erase', '/panel/api/receipts.json', '/panel/api/receipts/1.json', '/panel/../../etc/passwd',
    '/panel/%2e%2e/%2e%2e/etc/passwd', '/panel/panel.js', '/panel/index.html', '//', '/?a=__proto__', '/api/status?x=' + 'a'.repeat(2000),
  );
  const body = fc.oneof(
    fc.constant(null),
    downlinkBodies(HOUSEHOLD, Date.now()).consent.map((b) => Buffer.from(JSON.stringify({ ...b, source: 'panel' }))),
    fc.record({ command: fc.constantFrom('identify', 'notify', 'toString', '__proto__'), text: hostileValue }, { requiredKeys: [] }).map((b) => Buffer.from(JSON.stringify(b))),
    fc.record({ code: fc.oneof(fc.string({ maxLength: 12 }), hostileValue) }).map((b) => Buffer.from(JSON.stringify(b))),
    fc.json().map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 10, max: 5000 }).map((d) => Buffer.from(deepJson(d))),
    fc.constantFrom(...PROTOTYPE_NAMES).map((k) => Buffer.from(`{"${k}":{"granted":true},"granted":true,"device":"scale-a","category":"usage"}`)),
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      path: routes,
      host: fc.constantFrom(good, good, `localhost:${port}`, `evil.example:${port}`, 'evil.example', `${good}.evil.example`),
      auth: fc.constantFrom('none', 'none', 'wrong', 'garbage', 'right'),
      origin: fc.constantFrom('none', 'self', 'evil'),
      cookie: fc.constantFrom('none', 'garbage', 'edge_panel=' + 'A'.repeat(43)),
      contentType: fc.constantFrom('application/json', 'text/plain', 'none', 'application/json; charset=utf-8'),
      body,
    })
    .map((r) => {
      const headers: Record<string, string> = { host: r.host };
      if (r.auth === 'right') headers.authorization = `Bearer ${token}`;
      if (r.auth === 'wrong') headers.authorization = `Bearer ${'0'.repeat(token.length)}`;
      if (r.auth === 'garbage') headers.authorization = 'Basic Zm9vOmJhcg==';
      if (r.origin === 'self') headers.origin = `http://${r.host}`;
      if (r.origin === 'evil') headers.origin = 'http://evil.example';
      if (r.cookie !== 'none') headers.cookie = r.cookie === 'garbage' ? 'edge_panel=garbage; x=__proto__' : r.cookie;
      if (r.contentType !== 'none') headers['content-type'] = r.contentType;
      return { method: r.method, path: r.path, headers, body: r.method === 'GET' || r.method === 'HEAD' ? null : r.body };
    });
}

function send(agent: http.Agent, port: number, c: ApiCase): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: c.method, path: c.path, headers: { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) }, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(-1));
      },
    );
    req.on('error', () => resolve(-1));
    req.setTimeout(30_000, () => req.destroy());
    if (c.body) req.write(c.body);
    req.end();
  });
}

export async function runApi(agent: Agent, dataDir: string, budget: FuzzBudget, report: FuzzReport, stop?: AbortSignal): Promise<void> {
  const port = Number(agent.apiAddress!.split(':').at(-1));
  const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: budget.concurrency });
  const started = Date.now();
  const chunk = 2000;
  for (let done = 0; done < budget.api && !stop?.aborted; ) {
    const n = Math.min(chunk, budget.api - done);
    const cases = fc.sample(apiCases(port, token), { seed: budget.seed + 7 + done, numRuns: n });
    // without credentials first (the ledger must not move), then the rest
    const anonymous = cases.filter((c) => !c.headers.authorization?.endsWith(token));
    const ledgerBefore = agent.ledger.length;
    let next = 0;
    const worker = async (list: ApiCase[]): Promise<void> => {
      while (next < list.length) {
        const c = list[next++]!;
        const status = await send(keepAlive, port, c);
        report.api.byStatus[String(status)] = (report.api.byStatus[String(status)] ?? 0) + 1;
        if (status >= 500 || status === -1) {
          report.api.crashes++;
          if (report.crashDetails.length < 20) report.crashDetails.push(`${c.method} ${c.path} → ${status}`);
        }
      }
    };
    await Promise.all(Array.from({ length: budget.concurrency }, () => worker(anonymous)));
    if (agent.ledger.length !== ledgerBefore) report.api.stateChangesWithoutCredentials++;
    const authorised = cases.filter((c) => c.headers.authorization?.endsWith(token));
    next = 0;
    await Promise.all(Array.from({ length: budget.concurrency }, () => worker(authorised)));
    done += n;
    report.api.requests = done;
  }
  keepAlive.destroy();
  report.api.perSecond = Math.round(report.api.requests / ((Date.now() - started) / 1000));
  report.invariantViolations.push(...ledgerProblems(agent, Date.now()));
}
