import type { Agent } from '../../agent/controller';
import { SPECIAL_CATEGORIES, WILDCARD } from '../../agent/consent/consent-rules';

/**
 * The consent ledger's invariants the fuzz campaign checks after every phase: it verifies (hash chain), stays in
 * time order, is never dated ahead, and never holds an upstream grant of a special category or "*".
 */
export function ledgerProblems(agent: Agent, now: number): string[] {
  const out: string[] = [];
  const v = agent.ledger.verify();
  if (!v.ok) out.push(`ledger does not verify: ${v.reason ?? ''}`);
  const rows = agent.database.prepare('SELECT seq, at, target, granted, source FROM consent_ledger ORDER BY seq').all() as Array<{ seq: number; at: number; target: string; granted: number; source: string }>;
  for (let i = 1; i < rows.length; i++) if (rows[i]!.at < rows[i - 1]!.at) out.push(`ledger entry ${rows[i]!.seq} dated before entry ${rows[i - 1]!.seq}`);
  for (const r of rows) {
    if (r.at > now + 1000) out.push(`ledger entry ${r.seq} dated in the future`);
    if (r.source === 'upstream' && r.granted === 1 && (r.target === WILDCARD || SPECIAL_CATEGORIES.has(r.target))) out.push(`upstream granted ${r.target} (entry ${r.seq})`);
  }
  return out;
}
