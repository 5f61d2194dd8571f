import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentConfig } from '../../config/types';
import type { LedgerEntry, PurgeCounts } from '../../consent/consent-ledger';
import { receiptLine, receiptOf } from '../../consent/consent-receipt';
import type { ConsentScope } from '../../consent/consent-rules';
import { ConsentTargetError, consentTarget, type ConsentTarget } from '../../consent/consent-target';
import { changeConsentOffline, withLedger } from '../../consent/offline-consent';
import { databasePath } from '../../store/database';
import { AgentClient, AgentNotRunning } from '../api-client';
import { CliError } from '../cli-error';
import { jsonFailure, jsonText, printJson, table, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';

export interface ConsentChangeOptions {
  config?: string;
  device?: string;
  category?: string;
  profile?: string;
  campaign?: string;
  channel?: string;
  erase?: boolean;
  json?: boolean;
}

interface StateEntry {
  scope: ConsentScope;
  subject: string;
  target: string;
  granted: boolean;
  at: number;
  policyVersion: number;
}

function requireDatabase(cfg: AgentConfig): void {
  const file = databasePath(cfg.gateway.dataDir);
  if (!fs.existsSync(file)) {
    throw new CliError(`no agent database at ${file} — the agent has not run with this config yet (start it with \`edge-agent run\`)`, 1);
  }
}

function describeTarget(scope: ConsentScope, subject: string, target: string): string {
  if (scope === 'device') return `device ${subject} may collect ${target === '*' ? 'every non-special category' : target}`;
  if (scope === 'campaign') return `profile ${subject} in campaign ${target}`;
  return `profile ${subject} contacted by ${target}`;
}

export interface AppliedConsentChange {
  entry: LedgerEntry | null;
  purged: PurgeCounts;
  /** the running agent applied it (effective at once), or the database did (the agent replays it at start) */
  via: 'agent' | 'database';
}

/** One consent change through the running agent's API, or straight on the database when nothing answers. */
export async function applyConsentChange(config: AgentConfig, t: ConsentTarget, granted: boolean, erase: boolean): Promise<AppliedConsentChange> {
  try {
    const { entry, purged } = await AgentClient.forConfig(config).changeConsent<{ entry: LedgerEntry; purged: PurgeCounts }>({
      ...(t.scope === 'device' ? { device: t.subject, category: t.target } : { profile: t.subject, [t.scope]: t.target }),
      granted,
      erase,
    });
    return { entry, purged, via: 'agent' };
  } catch (err) {
    if (!(err instanceof AgentNotRunning)) throw err;
    const { entry, purged } = changeConsentOffline(config, { ...t, granted, source: 'cli', erase });
    return { entry, purged, via: 'database' };
  }
}

/** `consent grant|revoke`: through the running agent (effective at once), or straight on the database when it is stopped. */
export async function consentChangeCommand(granted: boolean, o: ConsentChangeOptions, io: CliOutput): Promise<number> {
  const { config } = loadConfigOrExit(o.config);
  let t;
  try {
    t = consentTarget(o, config);
  } catch (err) {
    if (err instanceof ConsentTargetError) throw new CliError(err.message, 2);
    throw err;
  }
  if (o.erase && (granted || t.scope !== 'device')) throw new CliError('--erase goes with `consent revoke --device D --category C`', 2);
  const { entry, purged, via } = await applyConsentChange(config, t, granted, o.erase === true);
  if (o.json) {
    printJson(io, { ok: true, via, entry, purged });
    return 0;
  }
  const what = describeTarget(t.scope, t.subject, t.target);
  const erased = granted ? '' : ` — erased ${purged.outbox} queued signals, ${purged.engagement} engagement events${o.erase ? `, ${purged.raw} raw rows` : ''}`;
  io.out(`${granted ? 'granted' : 'withdrawn'}: ${what}${erased} (ledger entry #${entry?.seq ?? '?'}${via === 'database' ? ', agent not running: applies when it starts' : ''})`);
  return 0;
}

/** `consent show`: the decisions in force, from the running agent or the database. */
export async function consentShowCommand(o: { config?: string; json?: boolean }, io: CliOutput): Promise<number> {
  const { config, file } = loadConfigOrExit(o.config);
  let entries: StateEntry[];
  try {
    entries = (await AgentClient.forConfig(config, file).consent<StateEntry>()).entries;
  } catch (err) {
    if (!(err instanceof AgentNotRunning)) throw err;
    if (!fs.existsSync(databasePath(config.gateway.dataDir))) entries = [];
    else entries = withLedger(config, (l) => l.rules.entries());
  }
  entries.sort((a, b) => a.scope.localeCompare(b.scope) || a.subject.localeCompare(b.subject) || a.target.localeCompare(b.target));
  if (o.json) {
    printJson(io, { defaultDeny: true, entries });
    return 0;
  }
  if (entries.length === 0) {
    io.out('no consent recorded: everything is denied (default deny)');
    return 0;
  }
  io.out(
    table(
      ['LAYER', 'SUBJECT', 'TARGET', 'STATE', 'SINCE', 'POLICY'],
      entries.map((e) => [e.scope, e.subject, e.target, e.granted ? 'granted' : 'withdrawn', new Date(e.at).toISOString(), `v${e.policyVersion}`]),
    ),
  );
  io.out('anything not listed as granted is denied (default deny); health and biometric need a grant naming them');
  return 0;
}

/** `consent verify`: walks the hash chain of the ledger file; exit 1 names the first bad entry. */
export function consentVerifyCommand(o: { config?: string; json?: boolean }, io: CliOutput): number {
  const { config } = loadConfigOrExit(o.config);
  requireDatabase(config);
  const v = withLedger(config, (l) => l.verify());
  const broken = `consent ledger BROKEN at entry ${v.brokenAt}: ${v.reason} — the history cannot be trusted from there on; keep a copy of ${databasePath(config.gateway.dataDir)} for investigation`;
  if (o.json) printJson(io, v.ok ? v : jsonFailure(broken, 1, { ...v }));
  else if (v.ok) io.out(`consent ledger OK: ${v.entries} entries, hash chain intact`);
  else io.err(broken);
  return v.ok ? 0 : 1;
}

/** `consent export`: one receipt per ledger entry (readable lines, or JSON receipts). */
export function consentExportCommand(o: { config?: string; json?: boolean; out?: string }, io: CliOutput): number {
  const { config } = loadConfigOrExit(o.config);
  requireDatabase(config);
  const { receipts, verify } = withLedger(config, (l) => ({ receipts: l.entries().map((e) => receiptOf(e, config.gateway.id)), verify: l.verify() }));
  const doc = { gateway: config.gateway.id, exportedAt: new Date().toISOString(), ledger: verify, receipts };
  const text = o.json
    ? jsonText(verify.ok ? doc : jsonFailure(`consent ledger BROKEN at entry ${verify.brokenAt}: ${verify.reason}`, 1, doc))
    : [
        `Consent record of gateway ${config.gateway.id} (${receipts.length} entries, ledger ${verify.ok ? 'verified' : `BROKEN at entry ${verify.brokenAt}`})`,
        ...receipts.map(receiptLine),
      ].join('\n');
  if (o.out) {
    fs.writeFileSync(path.resolve(o.out), text + '\n');
    io.err(`wrote ${receipts.length} receipts to ${path.resolve(o.out)}`);
  } else {
    io.out(text);
  }
  return verify.ok ? 0 : 1;
}
