import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import type { AgentConfig, DeviceConfig } from '../../config';
import { ConfigError } from '../../config';
import { addDevice, editConfigFile, removeDevice } from '../../config/config-editor';
import { SPECIAL_CATEGORIES, type ConsentScope } from '../../consent/consent-rules';
import type { ConsentTarget } from '../../consent/consent-target';
import { CATEGORIES } from '../../../firmware-bridge/protocol';
import { CHANNELS } from '../../engagement/types';
import { withLedger } from '../../consent/offline-consent';
import { databasePath, handDatabaseBack } from '../../store/database';
import { listSerialPorts } from '../../../drivers/serial/port-scanner';
import { scanBle, type BleScanEntry } from '../../../drivers/ble/ble-scanner';
import { AgentClient, AgentNotRunning } from '../api-client';
import { CliError } from '../cli-error';
import { printJson, type CliOutput } from '../output';
import { Prompter } from '../prompter';
import { applyConsentChange, type AppliedConsentChange } from './consent-command';
import { configErrorAsCli, loadConfigOrExit } from './config-command';
import { DEFAULT_BAUD } from '../../../drivers/serial/baud';

export interface PairOptions {
  config?: string;
  id?: string;
  transport?: string;
  port?: string;
  baud?: string;
  address?: string;
  profile?: string;
  grant?: string[];
  campaign?: string[];
  channel?: string[];
  yes?: boolean;
  json?: boolean;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAC_RE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

/** `--grant usage,environment --grant presence` → ['usage', 'environment', 'presence'] */
const listOf = (xs: string[] | undefined): string[] => [...new Set((xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean))];

const profilesOf = (c: AgentConfig): string[] => [...new Set(c.devices.map((d) => d.profile).filter((p): p is string => !!p))];

function checkId(id: string, c: AgentConfig): string | null {
  if (!ID_RE.test(id)) return 'letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit';
  if (c.devices.some((d) => d.id === id)) return `"${id}" is already paired (\`edge-agent devices show ${id}\`)`;
  return null;
}

function checkCategories(cats: string[]): string | null {
  const bad = cats.filter((c) => !(CATEGORIES as readonly string[]).includes(c));
  return bad.length ? `unknown categor${bad.length === 1 ? 'y' : 'ies'} ${bad.join(', ')} — use ${CATEGORIES.join(', ')}` : null;
}

interface PairPlan {
  device: DeviceConfig;
  consents: Array<{ target: ConsentTarget; what: string }>;
}

function planOf(o: Required<Pick<PairOptions, 'id' | 'transport' | 'profile'>> & PairOptions, config: AgentConfig): PairPlan {
  const problems: string[] = [];
  const idProblem = checkId(o.id, config);
  if (idProblem) problems.push(`--id: ${idProblem}`);
  let device: DeviceConfig;
  if (o.transport === 'serial') {
    if (!o.port) problems.push('--port is needed for a serial device');
    const baud = Number(o.baud ?? DEFAULT_BAUD);
    if (!Number.isInteger(baud) || baud < 300) problems.push(`--baud ${o.baud}: a whole number of bits per second, e.g. ${DEFAULT_BAUD}`);
    device = { id: o.id, transport: 'serial', port: o.port ?? '', baud, profile: o.profile };
  } else if (o.transport === 'ble') {
    if (!o.address || !MAC_RE.test(o.address)) problems.push(`--address ${o.address ?? '(missing)'}: a BLE address like 24:6F:28:AA:BB:CC`);
    device = { id: o.id, transport: 'ble', address: (o.address ?? '').toUpperCase(), profile: o.profile };
  } else {
    throw new CliError(`--transport ${o.transport}: serial or ble`, 2);
  }
  if (!ID_RE.test(o.profile)) problems.push(`--profile ${o.profile}: letters, digits, ".", "_" or "-"`);
  const grants = listOf(o.grant);
  const catProblem = checkCategories(grants);
  if (catProblem) problems.push(`--grant: ${catProblem}`);
  const campaigns = listOf(o.campaign);
  const unknown = campaigns.filter((c) => !config.campaigns.some((k) => k.id === c));
  if (unknown.length) problems.push(`--campaign: unknown ${unknown.join(', ')} — configured: ${config.campaigns.map((c) => c.id).join(', ') || '(none)'}`);
  const channels = listOf(o.channel);
  const badCh = channels.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (badCh.length) problems.push(`--channel: unknown ${badCh.join(', ')} — use ${CHANNELS.join(', ')}`);
  if (problems.length) throw new CliError(problems.join('; '), 2);
  const consents: PairPlan['consents'] = [
    ...grants.map((c) => ({ target: { scope: 'device' as ConsentScope, subject: o.id, target: c }, what: `${o.id} may collect ${c}${SPECIAL_CATEGORIES.has(c) ? ' (special category, GDPR Art. 9)' : ''}` })),
    ...campaigns.map((c) => ({ target: { scope: 'campaign' as ConsentScope, subject: o.profile, target: c }, what: `profile ${o.profile} takes part in campaign ${c}` })),
    ...channels.map((c) => ({ target: { scope: 'channel' as ConsentScope, subject: o.profile, target: c }, what: `profile ${o.profile} may be contacted by ${c}` })),
  ];
  return { device, consents };
}

/** Fills the missing answers at a terminal: port or BLE address, id, profile, then each consent with its meaning. */
async function askMissing(o: PairOptions, config: AgentConfig, p: Prompter): Promise<PairOptions & { id: string; transport: string; profile: string }> {
  p.say('Pairing a device with this gateway. Nothing is collected until the household grants it (default deny).');
  const transport = o.transport ?? ['serial', 'ble'][await p.choose('Transport', ['serial (USB cable)', 'ble (Bluetooth Low Energy)'], { default: 0 })];
  let port = o.port;
  let address = o.address;
  if (transport === 'serial' && !port) {
    const ports = listSerialPorts();
    ports.forEach((x, i) => p.say(`  ${i + 1}) ${x.byId ?? x.path}${x.product ? `  (${x.product})` : ''}`));
    const index = (a: string): number => (/^\d+$/.test(a) && Number(a) >= 1 && Number(a) <= ports.length ? Number(a) - 1 : -1);
    const answer = await p.ask(ports.length ? 'Serial port (its number, or a path)' : 'Serial port path (no USB serial adapter found)', {
      ...(ports.length ? { default: '1' } : {}),
      check: (a) => (index(a) >= 0 || fs.existsSync(a) ? null : `${a} does not exist (plugged in? \`edge-agent devices scan\` lists ports)`),
    });
    const i = index(answer);
    port = i >= 0 ? (ports[i].byId ?? ports[i].path) : answer;
  }
  if (transport === 'ble' && !address) {
    p.say('Scanning for Bluetooth devices for 5 s…');
    let found: BleScanEntry[] = [];
    try {
      found = (await scanBle({ durationMs: 5000 })).devices.filter((d) => !config.devices.some((c) => c.transport === 'ble' && c.address.toUpperCase() === d.address.toUpperCase()));
    } catch (err) {
      p.say(`  no scan: ${err instanceof Error ? err.message : String(err)}`);
    }
    found.forEach((d, i) => p.say(`  ${i + 1}) ${d.address}  ${d.name ?? '(no name)'}  ${d.rssi === null ? '' : `${d.rssi} dBm`}${d.edgeAgent ? '  edge-agent firmware' : ''}`));
    const index = (a: string): number => (/^\d+$/.test(a) && Number(a) >= 1 && Number(a) <= found.length ? Number(a) - 1 : -1);
    const answer = await p.ask(found.length ? 'BLE device (its number, or an address)' : 'BLE address, e.g. 24:6F:28:AA:BB:CC', {
      ...(found.length ? { default: '1' } : {}),
      check: (a) => (index(a) >= 0 || MAC_RE.test(a) ? null : 'a number from the list, or an address like 24:6F:28:AA:BB:CC'),
    });
    address = index(answer) >= 0 ? found[index(answer)].address : answer;
  }
  const id = o.id ?? (await p.ask('Device id (used in status and consent)', { check: (a) => checkId(a, config) }));
  const profiles = profilesOf(config);
  const profile =
    o.profile ??
    (profiles.length
      ? await (async () => {
          const i = await p.choose('Household profile', [...profiles, 'a new profile…'], { default: 0 });
          return i < profiles.length ? profiles[i] : p.ask('New profile id', { check: (a) => (ID_RE.test(a) ? null : 'letters, digits, ".", "_" or "-"') });
        })()
      : await p.ask('Household profile id', { default: 'home-a', check: (a) => (ID_RE.test(a) ? null : 'letters, digits, ".", "_" or "-"') }));
  let grant = listOf(o.grant);
  if (o.grant === undefined) {
    p.say('What may this device collect? Categories: environment, presence, usage, location; special (GDPR Art. 9, named one by one): health, biometric.');
    const answer = await p.ask('Categories to grant, comma-separated, or "none"', {
      default: 'none',
      check: (a) => (a === 'none' ? null : checkCategories(listOf([a]))),
    });
    grant = answer === 'none' ? [] : listOf([answer]);
    for (const special of grant.filter((c) => SPECIAL_CATEGORIES.has(c))) {
      if (!(await p.confirm(`"${special}" is a special category (GDPR Art. 9). Did the household explicitly agree to it?`, false))) grant = grant.filter((c) => c !== special);
    }
  }
  let campaign = listOf(o.campaign);
  if (o.campaign === undefined && config.campaigns.length > 0) {
    campaign = [];
    for (const c of config.campaigns) {
      if (await p.confirm(`May profile ${profile} take part in campaign "${c.id}" (uses "${c.qualify.event}" events, may contact via ${c.channels.join('/')})?`, false)) campaign.push(c.id);
    }
  }
  let channel = listOf(o.channel);
  if (o.channel === undefined) {
    const answer = await p.ask(`Channels the household may be contacted by (${CHANNELS.join(', ')}), comma-separated, or "none"`, {
      default: 'none',
      check: (a) => (a === 'none' || listOf([a]).every((c) => (CHANNELS as readonly string[]).includes(c)) ? null : `use ${CHANNELS.join(', ')}`),
    });
    channel = answer === 'none' ? [] : listOf([answer]);
  }
  return { ...o, transport, ...(port ? { port } : {}), ...(address ? { address } : {}), id, profile, grant, campaign, channel };
}

/** Asks the running agent to re-read its config and waits until the new one answers (devices connect or go). */
export async function reloadAgent(config: AgentConfig, timeoutMs = 20_000): Promise<'reloaded' | 'not running'> {
  const agent = AgentClient.forConfig(config);
  let before: string;
  try {
    before = (await agent.reload()).startedAt;
  } catch (err) {
    if (err instanceof AgentNotRunning) return 'not running';
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    try {
      const st = await agent.status();
      if (st.gateway.startedAt !== before) return 'reloaded';
    } catch (err) {
      if (!(err instanceof AgentNotRunning)) throw err; // between the old agent and the new one
    }
  }
  throw new CliError(`the agent did not come back within ${timeoutMs / 1000} s after the reload — check \`edge-agent doctor\` and the log`, 1);
}

function describeDevice(d: DeviceConfig): string {
  return d.transport === 'serial' ? `serial ${d.port} @ ${d.baud}` : d.transport === 'ble' ? `BLE ${d.address}` : d.transport;
}

/** `devices pair`: adds the device to the config (validated, comments kept), reloads the agent, records the household's consents. */
export async function devicesPairCommand(o: PairOptions, io: CliOutput): Promise<number> {
  const { config, file } = loadConfigOrExit(o.config);
  const missing = !o.transport || !o.id || !o.profile || (o.transport === 'serial' && !o.port) || (o.transport === 'ble' && !o.address);
  let answers: PairOptions = o;
  let confirmed = o.yes === true;
  if (missing) {
    if (!(process.stdin.isTTY && io.isTTY) || o.json) {
      throw new CliError('missing --transport, --id, --profile and --port (serial) or --address (ble); run it at a terminal to be asked instead', 2);
    }
    const p = new Prompter();
    try {
      answers = await askMissing(o, config, p);
      const plan = planOf(answers as Parameters<typeof planOf>[0], config);
      p.say(`\nAbout to pair ${plan.device.id} (${describeDevice(plan.device)}) to profile ${plan.device.profile}, and record:`);
      for (const c of plan.consents) p.say(`  grant: ${c.what}`);
      if (plan.consents.length === 0) p.say('  no consents: the device connects, but nothing it sends is stored until the household grants it');
      confirmed = await p.confirm('Go ahead?', true);
    } finally {
      p.close();
    }
    if (!confirmed) {
      io.err('nothing changed');
      return 1;
    }
  }
  const plan = planOf(answers as Parameters<typeof planOf>[0], config);
  let next: AgentConfig;
  try {
    next = editConfigFile(file, (doc) => addDevice(doc, { ...plan.device })).config;
  } catch (err) {
    if (err instanceof ConfigError) throw configErrorAsCli(err);
    throw err;
  }
  const agent = await reloadAgent(next);
  const applied: Array<AppliedConsentChange & { what: string }> = [];
  for (const c of plan.consents) applied.push({ ...(await applyConsentChange(next, c.target, true, false)), what: c.what });
  handDatabaseBack(next.gateway.dataDir);
  if (o.json) {
    printJson(io, { ok: true, device: plan.device, config: file, agent, consents: applied.map((a) => ({ what: a.what, via: a.via, seq: a.entry?.seq ?? null })) });
    return 0;
  }
  io.out(`paired ${plan.device.id}: ${describeDevice(plan.device)}, profile ${plan.device.profile} (added to ${file})`);
  for (const a of applied) io.out(`  granted: ${a.what} (ledger entry #${a.entry?.seq ?? '?'})`);
  io.out(agent === 'reloaded' ? '  the running agent picked it up; watch it with `edge-agent devices show ' + plan.device.id + '`' : '  the agent is not running: it connects the device when it starts');
  return 0;
}

/** Categories with granted device consent, and categories with raw data still on disk, for an unpairing. */
function categoriesToErase(config: AgentConfig, id: string): string[] {
  const file = databasePath(config.gateway.dataDir);
  if (!fs.existsSync(file)) return [];
  const granted = withLedger(config, (l) => l.rules.entries().filter((e) => e.scope === 'device' && e.subject === id && e.granted).map((e) => e.target));
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const stored = (db.prepare('SELECT category FROM readings WHERE device = ? UNION SELECT category FROM events WHERE device = ?').all(id, id) as Array<{ category: string }>).map((r) => r.category);
    return [...new Set([...granted, ...stored])];
  } finally {
    db.close();
  }
}

/**
 * `devices unpair`: withdraws the device's consents and erases what it collected (raw rows, its engagement
 * contribution, queued signals — each withdrawal says how much), removes it from the config and the registry,
 * and reloads the agent. `--keep-data` withdraws without erasing raw rows.
 */
export async function devicesUnpairCommand(id: string, o: { config?: string; yes?: boolean; keepData?: boolean; json?: boolean }, io: CliOutput): Promise<number> {
  const { config, file } = loadConfigOrExit(o.config);
  const device = config.devices.find((d) => d.id === id);
  if (!device) throw new CliError(`no device "${id}" in ${file} — paired devices: ${config.devices.map((d) => d.id).join(', ') || '(none)'}`, 2);
  const cats = categoriesToErase(config, id);
  if (!o.yes) {
    if (!(process.stdin.isTTY && io.isTTY) || o.json) throw new CliError(`unpairing ${id} withdraws its consents${o.keepData ? '' : ' and erases its data'}: add --yes to confirm`, 2);
    const p = new Prompter();
    let ok: boolean;
    try {
      ok = await p.confirm(`Unpair ${id} (${describeDevice(device)})${cats.length && !o.keepData ? ` and erase its ${cats.join(', ')} data` : ''}?`, false);
    } finally {
      p.close();
    }
    if (!ok) {
      io.err('nothing changed');
      return 1;
    }
  }
  const erased = { outbox: 0, engagement: 0, raw: 0 };
  for (const c of cats) {
    const r = await applyConsentChange(config, { scope: 'device', subject: id, target: c }, false, o.keepData !== true);
    erased.outbox += r.purged.outbox;
    erased.engagement += r.purged.engagement;
    erased.raw += r.purged.raw;
  }
  let changed: string[] = [];
  let next: AgentConfig;
  try {
    next = editConfigFile(file, (doc) => {
      changed = removeDevice(doc, id);
    }).config;
  } catch (err) {
    if (err instanceof ConfigError) throw configErrorAsCli(err);
    throw err;
  }
  const dbFile = databasePath(config.gateway.dataDir);
  if (fs.existsSync(dbFile)) {
    const db = new Database(dbFile, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('DELETE FROM devices WHERE id = ?').run(id);
    } finally {
      db.close();
    }
  }
  handDatabaseBack(config.gateway.dataDir);
  const agent = await reloadAgent(next);
  if (o.json) {
    printJson(io, { ok: true, device: id, withdrawn: cats, erased, configChanges: changed, agent });
    return 0;
  }
  io.out(`unpaired ${id}: consents withdrawn (${cats.join(', ') || 'none held'}); erased ${erased.raw} raw rows, ${erased.engagement} engagement events, ${erased.outbox} queued signals`);
  for (const c of changed) io.out(`  also: ${c}`);
  io.out(agent === 'reloaded' ? '  the running agent has let it go' : '  the agent is not running: nothing more to do');
  return 0;
}
