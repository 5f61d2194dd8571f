import { createHash } from 'node:crypto';
import type { Db } from '../store/database';
import { ConsentRules, type ConsentChange, type ConsentScope, type ConsentSource } from './consent-rules';

export interface LedgerEntry extends ConsentChange {
  seq: number;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The hash covers every field of the entry and the previous hash, so editing or dropping any row breaks the chain. */
export function entryHash(e: Omit<LedgerEntry, 'hash'>): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at,
    e.subject,
    e.scope,
    e.target,
    e.granted,
    e.source,
    e.policyVersion,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** first broken sequence number and why */
  brokenAt?: number;
  reason?: string;
}

interface Row {
  seq: number;
  at: number;
  subject: string;
  scope: string;
  target: string;
  granted: number;
  source: string;
  policy_version: number;
  prev_hash: string;
  hash: string;
}

const toEntry = (r: Row): LedgerEntry => ({
  seq: r.seq,
  at: r.at,
  subject: r.subject,
  scope: r.scope as ConsentScope,
  target: r.target,
  granted: r.granted === 1,
  source: r.source as ConsentSource,
  policyVersion: r.policy_version,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * Append-only, SHA-256 hash-chained consent ledger in SQLite (DESIGN §5). Appends are committed
 * synchronously (not group-committed): a consent change is rare and must be durable before it is reported.
 */
export class ConsentLedger {
  readonly rules = new ConsentRules();
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;

  constructor(private readonly db: Db) {}

  /** Replays the ledger into `rules`. */
  load(): void {
    const rows = this.db.prepare('SELECT * FROM consent_ledger ORDER BY seq').all() as Row[];
    for (const r of rows) {
      const e = toEntry(r);
      this.rules.apply(e);
      this.lastSeq = e.seq;
      this.lastHash = e.hash;
    }
  }

  append(change: ConsentChange): LedgerEntry {
    const base = { ...change, seq: this.lastSeq + 1, prevHash: this.lastHash };
    const entry: LedgerEntry = { ...base, hash: entryHash(base) };
    this.db
      .prepare(
        `INSERT INTO consent_ledger (seq, at, subject, scope, target, granted, source, policy_version, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.seq,
        entry.at,
        entry.subject,
        entry.scope,
        entry.target,
        entry.granted ? 1 : 0,
        entry.source,
        entry.policyVersion,
        entry.prevHash,
        entry.hash,
      );
    this.lastSeq = entry.seq;
    this.lastHash = entry.hash;
    this.rules.apply(entry);
    return entry;
  }

  entries(): LedgerEntry[] {
    return (this.db.prepare('SELECT * FROM consent_ledger ORDER BY seq').all() as Row[]).map(toEntry);
  }

  verify(): VerifyResult {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    const rows = this.entries();
    for (const e of rows) {
      if (e.seq !== expectedSeq) return { ok: false, entries: rows.length, brokenAt: e.seq, reason: `expected seq ${expectedSeq}` };
      if (e.prevHash !== prev) return { ok: false, entries: rows.length, brokenAt: e.seq, reason: 'prev_hash does not match' };
      const { hash, ...rest } = e;
      if (entryHash(rest) !== hash) return { ok: false, entries: rows.length, brokenAt: e.seq, reason: 'hash does not match contents' };
      prev = hash;
      expectedSeq++;
    }
    return { ok: true, entries: rows.length };
  }
}
