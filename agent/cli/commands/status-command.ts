import * as http from 'node:http';
import type { StatusDocument } from '../../api/status';
import { CliError } from '../cli-error';
import { loadConfigOrExit } from './config-command';
import { fmtNumber, table, type CliOutput } from '../output';

export function httpGetJson(url: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) return reject(new Error(`HTTP ${res.statusCode}: ${body.trim()}`));
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error('the API answered with something that is not JSON'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function renderStatus(s: StatusDocument, now = Date.now()): string {
  const lines: string[] = [];
  lines.push(`gateway ${s.gateway.id}  edge-agent ${s.gateway.version}  up ${s.gateway.uptimeS}s`);
  lines.push('');
  lines.push(
    table(
      ['DEVICE', 'TRANSPORT', 'TYPE', 'PROFILE', 'LINK', 'LAST SEEN', 'OK', 'BAD'],
      s.devices.map((d) => [
        d.id,
        d.transport,
        d.type ?? '-',
        d.profile ?? '-',
        d.connected ? 'up' : d.link ? `down (${d.link})` : 'down',
        ago(d.lastSeen, now),
        String(d.framesOk),
        String(d.framesBad),
      ]),
    ),
  );
  lines.push('');
  const i = s.ingest;
  lines.push(
    `ingest: ${i.accepted} accepted, ${i.droppedNoConsent} dropped (no consent), ${i.duplicates} duplicates, ${i.framesBad} bad frames`,
  );
  lines.push('');
  if (s.engagement.length === 0) lines.push('engagement: no qualifying events yet');
  else
    lines.push(
      table(
        ['PROFILE', 'CAMPAIGN', 'INDEX', 'R (days)', 'F', 'V'],
        s.engagement.map((e) => [e.profile, e.campaign, fmtNumber(e.index), fmtNumber(e.r, 3), String(e.f), fmtNumber(e.v)]),
      ),
    );
  lines.push('');
  const o = s.outbox;
  lines.push(`outbox: ${o.pending} pending${o.oldestAgeS !== null ? ` (oldest ${o.oldestAgeS}s)` : ''}, ${o.dropped} dropped`);
  const u = s.upstream;
  lines.push(
    `upstream: ${u.url ?? 'not configured'} ${u.connected ? 'connected' : 'disconnected'}, ${u.published} published, last ack ${ago(u.lastAckAt, now)}${u.error ? ` (${u.error})` : ''}`,
  );
  const failed = s.parts.filter((p) => p.state === 'failed');
  for (const p of failed) lines.push(`FAILED part ${p.name}: ${p.error}`);
  return lines.join('\n');
}

/** `edge-agent status`: asks the running agent's local API (same document as GET /api/status). */
export async function statusCommand(opts: { config?: string; url?: string; json?: boolean }, io: CliOutput): Promise<number> {
  let base = opts.url;
  if (!base) {
    const { config } = loadConfigOrExit(opts.config);
    base = `http://${config.api.listen}`;
  }
  let doc: StatusDocument;
  try {
    doc = (await httpGetJson(`${base.replace(/\/$/, '')}/api/status`)) as StatusDocument;
  } catch (err) {
    throw new CliError(
      `cannot reach the agent at ${base} (${err instanceof Error ? err.message : String(err)}) — is it running? Start it with \`edge-agent run\` or check \`systemctl status edge-agent\``,
      1,
    );
  }
  io.out(opts.json ? JSON.stringify(doc, null, 2) : renderStatus(doc));
  return 0;
}
