import type { StatusDocument } from '../api/status';
import type { AgentConfig } from '../config';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One line of `edge-agent doctor`: what was checked, how it went, and — for warn/fail — what to do. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** What every check may look at. `config` is null when the file did not load (its check says why). */
export interface DoctorContext {
  configFile: string | null;
  config: AgentConfig | null;
  /** why the config did not load (one line per problem, YAML path first), when it did not */
  configProblems: string[];
  env: NodeJS.ProcessEnv;
  now: number;
  /** the running agent's status from its local API; null when nothing answers */
  agentStatus(): Promise<StatusDocument | null>;
}

export interface Check {
  id: string;
  title: string;
  /** one result, or several for checks that look at several things (one per device, say) */
  run(ctx: DoctorContext): Promise<CheckResult | CheckResult[]> | CheckResult | CheckResult[];
}

export function result(check: Pick<Check, 'id' | 'title'>, status: CheckStatus, detail: string, fix?: string): CheckResult {
  return { id: check.id, title: check.title, status, detail, ...(fix !== undefined ? { fix } : {}) };
}
