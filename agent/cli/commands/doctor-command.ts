import { ConfigError, loadConfig, type AgentConfig } from '../../config';
import type { StatusDocument } from '../../api/status';
import { runDoctor, type DoctorReport } from '../../doctor/doctor';
import type { CheckStatus } from '../../doctor/check';
import { AgentClient, AgentNotRunning } from '../api-client';
import { CliError } from '../cli-error';
import { resolveConfigPath } from '../config-path';
import { jsonFailure, printJson, type CliOutput } from '../output';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const COLOUR: Record<CheckStatus, string> = { pass: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m', skip: '\x1b[90m' };

export function renderDoctor(report: DoctorReport, colour: boolean): string {
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines = report.checks.map((c) => {
    const label = colour ? `${COLOUR[c.status]}${LABEL[c.status]}\x1b[0m` : LABEL[c.status];
    const head = `${label}  ${c.title.padEnd(width)}  ${c.detail}`;
    return c.fix && (c.status === 'fail' || c.status === 'warn') ? `${head}\n      ${' '.repeat(width)}→ ${c.fix}` : head;
  });
  const n = report.counts;
  lines.push('', `${report.checks.length} checks: ${n.pass} pass, ${n.warn} warn, ${n.fail} fail, ${n.skip} skipped${report.ok ? '' : ' — fix the FAIL lines first, top to bottom'}`);
  return lines.join('\n');
}

/**
 * `edge-agent doctor`: every check a technician would otherwise do by hand, one line each with the fix.
 * Runs with a broken config too (the checks that need it say so), never changes anything. Exit 1 on any FAIL.
 */
export async function doctorCommand(o: { config?: string; json?: boolean }, io: CliOutput): Promise<number> {
  let configFile: string | null = null;
  let config: AgentConfig | null = null;
  let configProblems: string[] = [];
  try {
    configFile = resolveConfigPath(o.config);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
  }
  if (configFile !== null) {
    try {
      config = loadConfig(configFile).config;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      configProblems = err.issues.length > 0 ? err.issues.map((i) => `${i.path}: ${i.message}`) : [err.message];
    }
  }
  const agentStatus = async (): Promise<StatusDocument | null> => {
    if (!config) return null;
    try {
      return await AgentClient.forConfig(config, configFile ?? undefined).status(2000);
    } catch (err) {
      if (err instanceof AgentNotRunning) return null;
      throw err;
    }
  };
  const report = await runDoctor({ configFile, config, configProblems, env: process.env, now: Date.now(), agentStatus });
  if (o.json) {
    const doc = { ...report, gateway: config?.gateway.id ?? null, config: configFile, at: new Date().toISOString() };
    printJson(io, report.ok ? doc : jsonFailure(`${report.counts.fail} check${report.counts.fail === 1 ? '' : 's'} failed`, 1, doc));
  }
  else {
    io.out(`edge-agent doctor — ${config ? `gateway ${config.gateway.id}, ` : ''}config ${configFile ?? '(none found)'}`);
    io.out(renderDoctor(report, io.isTTY));
  }
  return report.ok ? 0 : 1;
}
