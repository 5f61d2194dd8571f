import { createHash } from 'node:crypto';
import type { Db } from '../store/database';
import { ConsentRules, type ConsentChange, type ConsentScope, type ConsentSource } from './consent-rules';

/** How much a withdrawal erased; zero for grants. */
export interface PurgeCounts {
  outbox: number;
  engagement: number;
  raw: number;
}

export const NO_PURGE: PurgeCounts = { outbox: 0, engagement: 0, raw: 0 };

export interface LedgerEntry extends ConsentChange {
  seq: number;
  purged: PurgeCounts;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash covers every field of the entry (purge counts included) and the previous entry's hash, so editing,
 * removing or reordering any row breaks the chain from that row on.
 */
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
    e.purged.outbox,
    e.purged.engagement,
    e.purged.raw,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** first broken sequence number (the row position, 1-based, when the seq itself is wrong) and why */
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
  purged_outbox: number;
  purged_engagement: number;
  purged_raw: number;
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
  purged: { outbox: r.purged_outbox, engagement: r.purged_engagement, raw: r.purged_raw },
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * Append-only, SHA-256 hash-chained consent ledger in SQLite (DESIGN §5). Appends are committed synchronously
 * (not group-committed): a consent change is rare and must be durable before it is reported.
 */
export class ConsentLedger {
  readonly rules = new ConsentRules();
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;
  private lastEntryAt = 0;

  constructor(private readonly db: Db) {}

  /** Replays the ledger into `rules`. */
  load(): void {
    for (const e of this.entries()) {
      this.rules.apply(e);
      this.lastSeq = e.seq;
      this.lastHash = e.hash;
      this.lastEntryAt = Math.max(this.lastEntryAt, e.at);
    }
  }

  get length(): number {
    return this.lastSeq;
  }

  /** when the last entry was dated (0 for an empty ledger): the next one is never dated before it */
  get lastAt(): number {
    return this.lastEntryAt;
  }

  /**
   * Appends one entry. Call inside the transaction that performs the change's erasure, so the entry and the
   * purge it reports commit together; `rules` is updated only after the insert succeeded.
   */
  append(change: ConsentChange, purged: PurgeCounts = NO_PURGE): LedgerEntry {
    const base = { ...change, purged: { ...purged }, seq: this.lastSeq + 1, prevHash: this.lastHash };
    const entry: LedgerEntry = { ...base, hash: entryHash(base) };
    this.db
      .prepare(
        `INSERT INTO consent_ledger (seq, at, subject, scope, target, granted, source, policy_version,
           purged_outbox, purged_engagement, purged_raw, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        entry.purged.outbox,
        entry.purged.engagement,
        entry.purged.raw,
        entry.prevHash,
        entry.hash,
      );
    this.lastSeq = entry.seq;
    this.lastHash = entry.hash;
    this.lastEntryAt = Math.max(this.lastEntryAt, entry.at);
    this.rules.apply(entry);
    return entry;
  }

  entries(): LedgerEntry[] {
    return (this.db.prepare('SELECT * FROM consent_ledger ORDER BY rowid').all() as Row[]).map(toEntry);
  }

  /**
   * Walks the chain in storage order. Detects an edited entry (hash mismatch), a removed one (seq gap or
   * prev_hash mismatch), and reordered ones (seq out of order or prev_hash mismatch), naming the first bad seq.
   */
  verify(): VerifyResult {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    const rows = this.entries();
    const present = new Set(rows.map((r) => r.seq));
    for (const e of rows) {
      if (e.seq !== expectedSeq) {
        const reordered = e.seq < expectedSeq || present.has(expectedSeq);
        return {
          ok: false,
          entries: rows.length,
          brokenAt: reordered ? e.seq : expectedSeq,
          reason: reordered ? `entry ${e.seq} is out of order (reordered)` : `entry ${expectedSeq} is missing (removed)`,
        };
      }
      const { hash, ...rest } = e;
      if (entryHash(rest) !== hash) {
        // An intact entry stored under another seq was moved, not edited.
        const movedFrom = rows.map((r) => r.seq).find((s) => s !== e.seq && entryHash({ ...rest, seq: s }) === hash);
        return {
          ok: false,
          entries: rows.length,
          brokenAt: e.seq,
          reason:
            movedFrom !== undefined
              ? `entry ${movedFrom} was moved to position ${e.seq} (reordered)`
              : `entry ${e.seq} was edited (its hash does not match its contents)`,
        };
      }
      if (e.prevHash !== prev) {
        return { ok: false, entries: rows.length, brokenAt: e.seq, reason: `entry ${e.seq} does not follow entry ${e.seq - 1} (chain broken)` };
      }
      prev = hash;
      expectedSeq++;
    }
    return { ok: true, entries: rows.length };
  }
}
