import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StatusDocument } from '../../api/status';
import { withLedger } from '../../consent/offline-consent';
import { deviceUpdateView, householdChoiceWords } from '../../firmware-update/device-update-view';
import { FirmwareUpdates } from '../../firmware-update/firmware-updates';
import { databasePath } from '../../store/database';
import { AgentClient, AgentNotRunning } from '../api-client';
import { CliError } from '../cli-error';
import { printJson, table, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';

interface RegistryRow {
  model: string | null;
  fw: string | null;
  channels: string;
  first_seen: number | null;
  last_seen: number | null;
  flashed_at?: number | null;
  flashed_fw?: string | null;
  mac?: string | null;
}

interface Sample {
  kind: 'reading' | 'event';
  name: string;
  category: string;
  v: number | null;
  t: number;
}

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());

/**
 * `devices show D`: everything a technician asks about one device — configuration, what its firmware said in
 * hello, the flash record, the live link (from the running agent), its consents and its latest data.
 */
export async function devicesShowCommand(id: string, o: { config?: string; json?: boolean; last?: string }, io: CliOutput): Promise<number> {
  const { config, file: configFile } = loadConfigOrExit(o.config);
  const cfg = config.devices.find((d) => d.id === id);
  if (!cfg) throw new CliError(`no device "${id}" in the config — paired devices: ${config.devices.map((d) => d.id).join(', ') || '(none)'}`, 2);
  const last = Math.min(100, Math.max(1, Number(o.last ?? 5) || 5));
  let live: StatusDocument['devices'][number] | null = null;
  try {
    const st = await AgentClient.forConfig(config, configFile).status();
    live = st.devices.find((d) => d.id === id) ?? null;
  } catch (err) {
    if (!(err instanceof AgentNotRunning)) throw err;
  }
  const file = databasePath(config.gateway.dataDir);
  let reg: RegistryRow | null = null;
  let samples: Sample[] = [];
  let consents: Array<{ target: string; granted: boolean; at: number }> = [];
  if (fs.existsSync(file)) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      reg = (db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as RegistryRow | undefined) ?? null;
      samples = db
        .prepare(
          `SELECT * FROM (SELECT 'reading' AS kind, 'ch' || ch AS name, category, v, t FROM readings WHERE device = ?
             UNION ALL SELECT 'event' AS kind, name, category, v, t FROM events WHERE device = ?) ORDER BY t DESC LIMIT ?`,
        )
        .all(id, id, last) as Sample[];
    } finally {
      db.close();
    }
    consents = withLedger(config, (l) => l.rules.entries().filter((e) => e.scope === 'device' && e.subject === id).map((e) => ({ target: e.target, granted: e.granted, at: e.at })));
  }
  // the firmware files are the agent's and the CLI's shared state: read whether or not the agent runs
  const update = fs.existsSync(path.join(config.gateway.dataDir, 'firmware'))
    ? deviceUpdateView(new FirmwareUpdates(config.gateway.dataDir).status(), id, Date.now())
    : null;
  const doc = {
    id,
    transport: cfg.transport,
    ...(cfg.transport === 'serial' ? { port: cfg.port, baud: cfg.baud } : cfg.transport === 'ble' ? { address: cfg.address } : { model: cfg.model }),
    profile: cfg.profile ?? null,
    model: live?.type ?? reg?.model ?? null,
    fw: live?.fw ?? reg?.fw ?? null,
    channels: reg ? (JSON.parse(reg.channels) as Array<{ n: number; k: string; c: string }>) : [],
    firstSeen: iso(reg?.first_seen),
    lastSeen: live?.lastSeen ?? iso(reg?.last_seen),
    flashed: reg?.flashed_at ? { at: iso(reg.flashed_at), fw: reg.flashed_fw ?? null, mac: reg.mac ?? null } : null,
    update,
    link: live ? { agent: 'running', connected: live.connected, detail: live.link ?? null, framesOk: live.framesOk, framesBad: live.framesBad, rssi: live.rssi ?? null, uptimeS: live.uptimeS ?? null } : { agent: 'not running' },
    consent: consents.map((c) => ({ category: c.target, granted: c.granted, since: iso(c.at) })),
    latest: samples.map((s) => ({ ...s, t: iso(s.t) })),
  };
  if (o.json) {
    printJson(io, doc);
    return 0;
  }
  const where = cfg.transport === 'serial' ? `${cfg.port} @ ${cfg.baud}` : cfg.transport === 'ble' ? cfg.address : `simulated ${cfg.model}`;
  io.out(`${id}  ${cfg.transport} ${where}  profile ${doc.profile ?? '-'}`);
  io.out(`  firmware   ${doc.model ?? '?'} ${doc.fw ?? '(no hello yet)'}${doc.flashed ? `, flashed ${doc.flashed.at}${doc.flashed.fw ? ` with ${doc.flashed.fw}` : ''}` : ''}`);
  if (update) {
    const u = update;
    const doing = u.state === 'UPDATING' ? ` (${u.step ?? 'starting'}, ${u.progress}%)` : '';
    // a SKIPPED device's reason already is the household's choice
    const choice = u.state === 'SKIPPED' ? '' : `; ${householdChoiceWords({ doNotUpdate: u.doNotUpdate, deferredUntil: u.deferredUntil === null ? null : Date.parse(u.deferredUntil) })}`;
    io.out(`  update     ${u.package.title} ${u.package.version}: ${u.state}${doing}${u.reason ? ` — ${u.reason}` : ''}${choice}`);
  }
  io.out(`  seen       first ${doc.firstSeen ?? 'never'}, last ${doc.lastSeen ?? 'never'}`);
  io.out(
    live
      ? `  link       ${live.connected ? 'connected' : 'down'}${live.link ? ` (${live.link})` : ''}, ${live.framesOk} frames ok, ${live.framesBad} bad${live.rssi != null ? `, RSSI ${live.rssi} dBm` : ''}${live.uptimeS != null ? `, device up ${live.uptimeS} s` : ''}`
      : '  link       agent not running (no live link data)',
  );
  if (doc.channels.length) io.out(`  channels   ${doc.channels.map((c) => `${c.n}:${c.k}/${c.c}`).join('  ')}`);
  io.out(`  consent    ${doc.consent.length ? doc.consent.map((c) => `${c.category} ${c.granted ? 'granted' : 'withdrawn'}`).join(', ') : 'none recorded: nothing is stored (default deny)'}`);
  if (samples.length) {
    io.out('');
    io.out(table(['TIME', 'KIND', 'WHAT', 'CATEGORY', 'VALUE'], samples.map((s) => [new Date(s.t).toISOString(), s.kind, s.name, s.category, s.v === null ? '' : String(s.v)])));
  }
  return 0;
}
