import type { SyncDocument } from '../../api/status';
import { AgentClient } from '../api-client';
import { CliError } from '../cli-error';
import { printJson, table, type CliOutput } from '../output';

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

export function renderSync(d: SyncDocument): string {
  const u = d.upstream;
  const lines: string[] = [];
  if (!d.configured) return 'no upstream configured: signals stay on the gateway (add upstream: to the config)';
  lines.push(`upstream ${u.url ?? '-'} (profile ${u.profile ?? '-'}): ${u.connected ? 'connected' : 'DISCONNECTED'}`);
  if (u.error) lines.push(`  last error: ${u.error}`);
  if (!u.connected && u.nextRetryAt) lines.push(`  next attempt: ${u.nextRetryAt}`);
  lines.push(
    `  published ${u.published} rows in ${u.messages} messages (${bytes(u.payloadBytes)}), last ack ${u.lastAckAt ?? 'never'}, connects ${u.connects}`,
  );
  lines.push(`  downlink: ${u.downlink.accepted} accepted, ${u.downlink.rejected} rejected${u.downlink.lastError ? ` (last: ${u.downlink.lastError})` : ''}`);
  lines.push('');
  const kinds = Object.entries(d.outbox.byKind);
  lines.push(`outbox: ${d.outbox.pending} pending (${bytes(d.outbox.bytes)}), oldest ${d.outbox.oldestAgeS === null ? '-' : `${d.outbox.oldestAgeS}s`}`);
  if (kinds.length > 0) lines.push(table(['KIND', 'ROWS', 'BYTES'], kinds.map(([k, v]) => [k, String(v.rows), bytes(v.bytes)])));
  const drops = Object.entries(d.outbox.droppedByReason).filter(([, n]) => n > 0);
  lines.push(
    `storage: ${bytes(d.storage.usedBytes)} of ${bytes(d.storage.maxBytes)}${d.storage.full ? ' — FULL: new frames refused until space returns' : ''}`,
  );
  lines.push(`dropped by the storage policy: ${drops.length === 0 ? 'nothing' : drops.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  lines.push(`not sent because consent was withdrawn after queueing: ${d.outbox.droppedNoConsentAtSync}`);
  if (d.batch) lines.push(`batches: ≤ ${d.batch.maxRows} rows, ≤ ${bytes(d.batch.maxBytes)}, after ${d.batch.delayMs} ms; messages ≤ ${bytes(d.batch.maxPayloadBytes)}`);
  return lines.join('\n');
}

/** `edge-agent sync [--now] [--json]`: the uplink and the outbox; `--now` drains before answering. */
export async function syncCommand(o: { config?: string; json?: boolean; now?: boolean; timeout?: string }, io: CliOutput): Promise<number> {
  const timeoutS = Number(o.timeout ?? '30');
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 600) throw new CliError('--timeout must be seconds from 1 to 600', 2);
  let doc: SyncDocument;
  let flush: { drained: boolean; pending: number; tookMs: number } | null = null;
  const agent = AgentClient.locate(o);
  if (o.now) {
    const b = await agent.flushSync(timeoutS * 1000);
    flush = { drained: b.drained, pending: b.pending, tookMs: b.tookMs };
    doc = b.sync;
  } else {
    doc = await agent.sync();
  }
  if (o.json) printJson(io, flush ? { ...doc, flush } : doc);
  else {
    if (flush) io.out(flush.drained ? `flushed: outbox empty after ${flush.tookMs} ms\n` : `not flushed: ${flush.pending} rows still pending after ${flush.tookMs} ms\n`);
    io.out(renderSync(doc));
  }
  if (flush && !flush.drained) return 1;
  return 0;
}
