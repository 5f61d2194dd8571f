import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentConfig } from '../../config';
import { parseDuration } from '../../config';
import { ConsentLedger } from '../../consent/consent-ledger';
import {
  buildOutcomesDocument,
  indexChartSvg,
  outcomeRule,
  OutcomeStore,
  type IndexSample,
  type OutcomesDocument,
} from '../../outcomes';
import { databasePath, openDatabase } from '../../store/database';
import { CliError } from '../cli-error';
import { fmtNumber, printJson, table, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';
import { AgentClient } from '../api-client';
import { findConfigPath } from '../config-path';

export interface ReportOptions {
  config?: string;
  url?: string;
  campaign?: string;
  since?: string;
  json?: boolean;
  chart?: string;
}

type Source = 'agent' | 'database';

/** `--since`: a duration ago (7d, 12h) or a date/time (2026-03-01, ISO-8601). */
export function parseSince(v: string, now: number): number {
  const ms = parseDuration(v);
  if (ms !== null) return now - ms;
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new CliError(
      `--since must be a duration ago (7d, 12h, 30m) or a date such as 2026-03-01, got "${v}"`,
      2,
    );
  return t;
}

const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

export function renderReport(doc: OutcomesDocument, source: Source): string {
  const lines: string[] = [];
  lines.push(
    `campaign outcomes, ${doc.since ? `since ${doc.since}` : 'all retained history'} (from the ${source === 'agent' ? 'running agent' : 'database, read-only'})`,
  );
  lines.push('');
  if (doc.campaigns.length === 0) lines.push('no campaigns configured');
  else
    lines.push(
      table(
        [
          'CAMPAIGN',
          'HOUSEHOLDS',
          'TRIGGERS',
          'CONVERTED',
          'RATE',
          'PURCHASES',
          'REORDER d (before→after)',
          'RATIO',
          'DWELL min (trig/base)',
          'DELIVERY ok/pend/fail',
        ],
        doc.campaigns.map((c) => [
          c.campaign,
          String(c.households),
          String(c.triggers),
          String(c.converted),
          pct(c.conversionRate),
          String(c.purchases),
          `${fmtNumber(c.reorderCycle.medianBeforeDays, 1)} → ${fmtNumber(c.reorderCycle.medianAfterDays, 1)}`,
          fmtNumber(c.reorderCycle.ratio),
          `${fmtNumber(c.dwell.triggered.medianMinutes, 1)} / ${fmtNumber(c.dwell.baseline.medianMinutes, 1)}`,
          `${c.delivery.delivered}/${c.delivery.pending}/${c.delivery.failed}`,
        ]),
      ),
    );
  const notes = doc.campaigns.filter((c) => c.dwell.truncated > 0 || c.dwell.unmatchedEnds > 0);
  for (const c of notes)
    lines.push(
      `  ${c.campaign}: ${c.dwell.truncated} presence sessions truncated (no end: closed at the ${c.dwell.capMinutes} min cap or the next start), ${c.dwell.unmatchedEnds} ends without a start`,
    );
  lines.push('');
  const optOut: string[][] = [];
  for (const r of doc.optOutByDeviceType)
    optOut.push(['device data', r.type, String(r.devices), String(r.optedOut), pct(r.rate)]);
  for (const c of doc.campaigns)
    for (const r of c.optOutByDeviceType)
      optOut.push([`campaign ${c.campaign}`, r.type, String(r.devices), String(r.optedOut), pct(r.rate)]);
  if (optOut.length === 0) lines.push('opt-out by device type: no devices yet');
  else lines.push(table(['OPT-OUT OF', 'DEVICE TYPE', 'DEVICES', 'OPTED OUT', 'RATE'], optOut));
  if (doc.recentTriggers.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['RECENT TRIGGER', 'PROFILE', 'CAMPAIGN', 'DEVICE', 'AT', 'DELIVERY'],
        doc.recentTriggers
          .slice(0, 10)
          .map((t) => [
            t.id.slice(0, 8),
            t.profile,
            t.campaign,
            t.device ?? '-',
            t.at,
            t.delivery + (t.error ? ` (${t.error})` : ''),
          ]),
      ),
    );
  }
  return lines.join('\n');
}

/** Reads the outcome history from the database without writing (WAL: safe next to a running agent). */
function fromDatabase(
  cfg: AgentConfig,
  filter: { since?: number; campaign?: string },
  now: number,
): { doc: OutcomesDocument; samples: IndexSample[] } {
  const file = databasePath(cfg.gateway.dataDir);
  if (!fs.existsSync(file))
    throw new CliError(
      `no database at ${file} — has the agent run with this config? (edge-agent run --config …)`,
    );
  const db = openDatabase(file, { readonly: true });
  try {
    if (!OutcomeStore.available(db))
      throw new CliError(
        `the database at ${file} predates campaign outcomes — start the agent once to upgrade it`,
      );
    const store = new OutcomeStore(db);
    const ledger = new ConsentLedger(db);
    ledger.load();
    const seen = new Map(
      (
        db.prepare('SELECT id, model, profile FROM devices').all() as Array<{
          id: string;
          model: string | null;
          profile: string | null;
        }>
      ).map((d) => [d.id, d]),
    );
    const devices = cfg.devices.map((d) => ({
      id: d.id,
      type:
        seen.get(d.id)?.model ??
        (d.transport === 'sim' ? d.model : d.transport === 'ble' ? (d.deviceType ?? null) : null),
      profile: d.profile ?? null,
    }));
    const doc = buildOutcomesDocument(
      store,
      cfg.campaigns.map(outcomeRule),
      ledger.rules,
      devices,
      now,
      filter,
    );
    return { doc, samples: store.samples(filter) };
  } finally {
    db.close();
  }
}

/**
 * `edge-agent report`: campaign outcome metrics for operators. Asks the running agent's API (status → outcomes);
 * with --since, --chart, or when the agent does not answer, reads the database read-only and computes the same
 * metrics with the same code.
 */
export async function reportCommand(o: ReportOptions, io: CliOutput): Promise<number> {
  if (!o.url && findConfigPath(o.config) === null) return reportFromAgentOnly(o, io);
  const { config } = loadConfigOrExit(o.config);
  const now = Date.now();
  if (o.campaign !== undefined && !config.campaigns.some((c) => c.id === o.campaign)) {
    throw new CliError(
      `unknown campaign "${o.campaign}" (one of: ${config.campaigns.map((c) => c.id).join(', ') || 'none configured'})`,
      2,
    );
  }
  const since = o.since === undefined ? undefined : parseSince(o.since, now);
  const filter = {
    ...(since !== undefined ? { since } : {}),
    ...(o.campaign !== undefined ? { campaign: o.campaign } : {}),
  };
  let doc: OutcomesDocument | null = null;
  let source: Source = 'database';
  let samples: IndexSample[] = [];
  if (since === undefined && o.chart === undefined) {
    try {
      const st = await (o.url ? new AgentClient(o.url, 'from --url') : AgentClient.forConfig(config)).status(2000);
      if (st.outcomes) {
        doc = ofCampaign(st.outcomes, o.campaign);
        source = 'agent';
      }
    } catch {
      // not running (or an older agent): the database has the same history
    }
  }
  if (doc === null) ({ doc, samples } = fromDatabase(config, filter, now));
  if (o.chart !== undefined) {
    const thresholds = Object.fromEntries(config.campaigns.map((c) => [c.id, c.threshold]));
    const title = `engagement index${o.campaign ? ` — ${o.campaign}` : ''}${doc.since ? ` since ${doc.since.slice(0, 10)}` : ''} (${config.gateway.id})`;
    const file = path.resolve(o.chart);
    try {
      fs.writeFileSync(file, indexChartSvg(samples, { title, thresholds }));
    } catch (err) {
      throw new CliError(
        `cannot write the chart to ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    if (!o.json)
      io.err(
        `chart written to ${file} (${new Set(samples.map((s) => `${s.profile}/${s.campaign}`)).size} series, ${samples.length} samples)`,
      );
  }
  if (o.json) printJson(io, { source, ...doc });
  else io.out(renderReport(doc, source));
  return 0;
}

/** The document narrowed to one campaign (all of it when none is named). */
function ofCampaign(doc: OutcomesDocument, campaign: string | undefined): OutcomesDocument {
  if (campaign === undefined) return doc;
  return {
    ...doc,
    campaigns: doc.campaigns.filter((c) => c.campaign === campaign),
    recentTriggers: doc.recentTriggers.filter((t) => t.campaign === campaign),
  };
}

/** No config file anywhere: the running agent's figures at the default address (history needs the database). */
async function reportFromAgentOnly(o: ReportOptions, io: CliOutput): Promise<number> {
  if (o.since !== undefined || o.chart !== undefined) {
    throw new CliError('--since and --chart read the database: pass --config FILE (no config file found)', 2);
  }
  const outcomes = (await AgentClient.locate(o).status(2000)).outcomes;
  if (!outcomes) throw new CliError('the running agent reports no outcomes (an older version): pass --config FILE to read its database');
  if (o.campaign !== undefined && !outcomes.campaigns.some((c) => c.campaign === o.campaign)) {
    throw new CliError(`unknown campaign "${o.campaign}" (one of: ${outcomes.campaigns.map((c) => c.campaign).join(', ') || 'none configured'})`, 2);
  }
  const doc = ofCampaign(outcomes, o.campaign);
  if (o.json) printJson(io, { source: 'agent', ...doc });
  else io.out(renderReport(doc, 'agent'));
  return 0;
}
