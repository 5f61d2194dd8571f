import type { StatusDocument } from '../../api/status';
import { AgentClient } from '../api-client';
import { fmtNumber, printJson, table, type CliOutput } from '../output';

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
  const doc = await AgentClient.locate(opts).status();
  if (opts.json) printJson(io, doc);
  else io.out(renderStatus(doc));
  return 0;
}
