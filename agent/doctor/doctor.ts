import { result, type Check, type CheckResult, type DoctorContext } from './check';
import { CONFIG_CHECK, NODE_CHECK, CLOCK_CHECK, SYSTEMD_CHECK } from './system-checks';
import { DATA_DIR_CHECK, DATABASE_CHECK, LEDGER_CHECK, STORAGE_BUDGET_CHECK } from './storage-checks';
import { SERIAL_CHECK, BLUETOOTH_CHECK, UPSTREAM_CHECK, AGENT_CHECK } from './link-checks';

/** In the order a technician reads them: the machine, the config, the disk, then the links. */
export const CHECKS: readonly Check[] = [
  NODE_CHECK,
  CONFIG_CHECK,
  DATA_DIR_CHECK,
  DATABASE_CHECK,
  LEDGER_CHECK,
  STORAGE_BUDGET_CHECK,
  SERIAL_CHECK,
  BLUETOOTH_CHECK,
  UPSTREAM_CHECK,
  CLOCK_CHECK,
  SYSTEMD_CHECK,
  AGENT_CHECK,
];

/** A check that hangs (a D-Bus call, a broker that never answers) must not hang the whole report. */
const CHECK_TIMEOUT_MS = 8000;

async function runOne(check: Check, ctx: DoctorContext): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve(result(check, 'fail', `no answer within ${CHECK_TIMEOUT_MS / 1000} s`, 'run `edge-agent doctor --debug` and check the system log')),
        CHECK_TIMEOUT_MS,
      );
    });
    const r = await Promise.race([Promise.resolve().then(() => check.run(ctx)), timeout]);
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    return [result(check, 'fail', `the check itself failed: ${err instanceof Error ? err.message : String(err)}`)];
  } finally {
    clearTimeout(timer);
  }
}

export interface DoctorReport {
  ok: boolean;
  counts: Record<'pass' | 'warn' | 'fail' | 'skip', number>;
  checks: CheckResult[];
}

/** Runs every check (the independent ones side by side) and keeps the fixed order in the report. */
export async function runDoctor(ctx: DoctorContext, checks: readonly Check[] = CHECKS): Promise<DoctorReport> {
  const all = (await Promise.all(checks.map((c) => runOne(c, ctx)))).flat();
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of all) counts[c.status]++;
  return { ok: counts.fail === 0, counts, checks: all };
}
