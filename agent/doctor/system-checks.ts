import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { ConfigError } from '../config';
import { ScriptHost, configuredScripts, loadConfiguredScripts, scriptLimits } from '../sandbox';
import { databasePath, openDatabase } from '../store/database';
import { result, type Check, type CheckResult } from './check';

const MIN_NODE_MAJOR = 20;

export const NODE_CHECK: Check = {
  id: 'node',
  title: 'Node.js',
  run() {
    return judgeNodeVersion(process.versions.node);
  },
};

export function judgeNodeVersion(v: string): CheckResult {
  const major = Number(v.split('.')[0]);
  return major >= MIN_NODE_MAJOR
    ? result(NODE_CHECK, 'pass', `Node ${v} (>= ${MIN_NODE_MAJOR} required)`)
    : result(NODE_CHECK, 'fail', `Node ${v} is too old`, `install Node ${MIN_NODE_MAJOR} LTS or newer (nodejs.org or the NodeSource packages)`);
}

export const CONFIG_CHECK: Check = {
  id: 'config',
  title: 'config',
  async run(ctx) {
    if (ctx.configFile === null) return result(this, 'fail', 'no config file found', 'pass --config FILE or install /etc/edge-agent/config.yaml');
    if (ctx.config === null) {
      const more = ctx.configProblems.length > 1 ? ` (+${ctx.configProblems.length - 1} more)` : '';
      return result(this, 'fail', `${ctx.configFile}: ${ctx.configProblems[0] ?? 'invalid'}${more}`, `fix it, then check with \`edge-agent config validate --config ${ctx.configFile}\``);
    }
    // Scripts are compiled exactly as the agent would; a compile error would stop the agent at start.
    const host = new ScriptHost({ limits: scriptLimits(ctx.config) });
    try {
      const issues = await loadConfiguredScripts(host, ctx.config);
      if (issues.length > 0) throw new ConfigError(issues);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const first = err.issues[0];
      return result(this, 'fail', `${ctx.configFile}: ${first ? `${first.path}: ${first.message}` : err.message}`, `fix the script, then run \`edge-agent config validate --config ${ctx.configFile}\``);
    } finally {
      host.stop();
    }
    const c = ctx.config;
    const scripts = configuredScripts(c).length;
    return result(this, 'pass', `${ctx.configFile}: valid (${c.devices.length} devices, ${c.campaigns.length} campaigns${scripts ? `, ${scripts} scripts compiled` : ''})`);
  },
};

/** Newest time the agent has written anything: a clock behind it went backwards (no RTC after a power cut). */
function newestRecordedTime(dataDir: string): number | null {
  const file = databasePath(dataDir);
  if (!fs.existsSync(file)) return null;
  const db = openDatabase(file, { readonly: true });
  try {
    const row = db
      .prepare(
        `SELECT max(coalesce((SELECT max(at) FROM consent_ledger), 0), coalesce((SELECT max(t) FROM events), 0),
                    coalesce((SELECT max(t) FROM readings), 0), coalesce((SELECT max(last_seen) FROM devices), 0)) AS t`,
      )
      .get() as { t: number };
    return row.t > 0 ? row.t : null;
  } finally {
    db.close();
  }
}

/** No gateway ran this software before this date: a clock earlier than it was never set. */
const EARLIEST_PLAUSIBLE = Date.UTC(2025, 0, 1);
const CLOCK_SLACK_MS = 5 * 60_000;

export const CLOCK_CHECK: Check = {
  id: 'clock',
  title: 'clock',
  run(ctx) {
    const now = ctx.now;
    const fix = 'enable time sync (`sudo timedatectl set-ntp true`) and, on a gateway without RTC, install fake-hwclock; then restart the agent';
    if (now < EARLIEST_PLAUSIBLE) return result(this, 'fail', `the clock says ${new Date(now).toISOString()}: it was never set`, fix);
    let newest: number | null = null;
    if (ctx.config) {
      try {
        newest = newestRecordedTime(ctx.config.gateway.dataDir);
      } catch {
        newest = null; // the database check reports an unreadable database
      }
    }
    if (newest !== null && now < newest - CLOCK_SLACK_MS) {
      return result(
        this,
        'fail',
        `the clock (${new Date(now).toISOString()}) is behind data already recorded (${new Date(newest).toISOString()}): it went backwards, as after a power cut without RTC; recency and cooldowns are wrong until it is fixed`,
        fix,
      );
    }
    const sync = spawnSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 2000 });
    const synced = sync.status === 0 ? sync.stdout.trim() : null;
    if (synced === 'no') return result(this, 'warn', `${new Date(now).toISOString()}, but not synchronised with NTP`, fix);
    return result(this, 'pass', `${new Date(now).toISOString()}${synced === 'yes' ? ', NTP synchronised' : ''}${newest !== null ? ', not behind recorded data' : ''}`);
  },
};

export const SYSTEMD_CHECK: Check = {
  id: 'systemd',
  title: 'service',
  run(ctx) {
    const unit = ctx.env.EDGE_AGENT_UNIT ?? 'edge-agent.service';
    const system = spawnSync('systemctl', ['is-system-running'], { encoding: 'utf8', timeout: 3000 });
    if (system.error || /offline|unknown/.test(system.stdout) || system.stdout.trim() === '') {
      return result(this, 'skip', 'systemd is not running here (container, chroot or a plain checkout)');
    }
    const q = spawnSync('systemctl', ['show', unit, '-p', 'LoadState,ActiveState,SubState,NRestarts', '--value'], { encoding: 'utf8', timeout: 3000 });
    const [load, active, sub, restarts] = q.stdout.trim().split('\n');
    if (load === 'not-found') return result(this, 'warn', `${unit} is not installed`, 'install the service with `sudo scripts/install-gateway` (see docs/install.md)');
    const restartNote = restarts && Number(restarts) > 0 ? `, restarted ${restarts} times` : '';
    if (active === 'active') {
      return result(this, Number(restarts) > 3 ? 'warn' : 'pass', `${unit} ${active} (${sub}${restartNote})`, Number(restarts) > 3 ? `it keeps restarting: \`journalctl -u ${unit} -n 50\`` : undefined);
    }
    return result(this, 'fail', `${unit} is ${active} (${sub}${restartNote})`, `\`sudo systemctl start ${unit}\`; why it stopped: \`journalctl -u ${unit} -n 50\``);
  },
};
