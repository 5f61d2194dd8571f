import type { StatusDocument } from '../api/status';
import { fmtNumber, table } from './output';

export interface LiveExtras {
  eventsPerSec: number;
  recentTriggers: Array<{ at: number; profile: string; campaign: string; index: number; channels: string[] }>;
  mqttMessages: number;
  brokerUrl: string;
  watchHint: string;
  apiUrl: string | null;
  dbFile: string;
}

const bold = (s: string, color: boolean): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string, color: boolean): string => (color ? `\x1b[2m${s}\x1b[0m` : s);

/** One screen of the demo: devices, throughput, index per profile × campaign, triggers, outbox and MQTT side. */
export function renderLiveView(s: StatusDocument, x: LiveExtras, color: boolean): string {
  const lines: string[] = [];
  lines.push(bold(`edge-agent demo — gateway ${s.gateway.id} — up ${s.gateway.uptimeS}s`, color) + dim('   (Ctrl-C to stop)', color));
  lines.push('');
  lines.push(bold('Devices', color));
  lines.push(
    table(
      ['ID', 'TYPE', 'PROFILE', 'LINK', 'FRAMES OK', 'BAD'],
      s.devices.map((d) => [d.id, d.type ?? '-', d.profile ?? '-', d.connected ? 'up' : 'down', String(d.framesOk), String(d.framesBad)]),
    ),
  );
  lines.push('');
  const i = s.ingest;
  lines.push(
    `${bold('Ingest', color)}  ${x.eventsPerSec.toFixed(1)} items/s   accepted ${i.accepted}   dropped (no consent) ${i.droppedNoConsent}   duplicates ${i.duplicates}   bad frames ${i.framesBad}`,
  );
  lines.push('');
  lines.push(bold('Engagement index  (S / R) × F × (V / 100)', color));
  lines.push(
    s.engagement.length === 0
      ? '  waiting for the first qualifying event…'
      : table(
          ['PROFILE', 'CAMPAIGN', 'INDEX', 'R days', 'F', 'V', 'ARMED'],
          s.engagement.map((e) => [
            e.profile,
            e.campaign,
            fmtNumber(e.index),
            fmtNumber(e.r, 4),
            String(e.f),
            fmtNumber(e.v),
            e.armed ? 'yes' : 'no',
          ]),
        ),
  );
  lines.push('');
  lines.push(bold(`Triggers (${s.triggers.total} total)`, color));
  if (x.recentTriggers.length === 0) lines.push('  none yet');
  for (const t of x.recentTriggers.slice(-5)) {
    lines.push(
      `  ${new Date(t.at).toISOString().slice(11, 19)}  ${t.profile} / ${t.campaign}  index ${fmtNumber(t.index)}  → ${t.channels.join(', ')}`,
    );
  }
  lines.push('');
  const o = s.outbox;
  const u = s.upstream;
  lines.push(
    `${bold('Outbox', color)} ${o.pending} pending${o.oldestAgeS !== null ? ` (oldest ${o.oldestAgeS}s)` : ''}   ${bold('Upstream', color)} ${u.connected ? 'connected' : 'disconnected'} to ${x.brokerUrl}, ${u.published} signals acked, ${x.mqttMessages} MQTT messages at the broker`,
  );
  lines.push('');
  lines.push(dim(`Watch the MQTT side:  ${x.watchHint}`, color));
  if (x.apiUrl) lines.push(dim(`Status API:           curl -s ${x.apiUrl}/api/status   (or: npx edge-agent status --url ${x.apiUrl})`, color));
  lines.push(dim(`SQLite database:      ${x.dbFile}`, color));
  const failed = s.parts.filter((p) => p.state === 'failed');
  for (const p of failed) lines.push(`FAILED ${p.name}: ${p.error}`);
  return lines.join('\n');
}
