import type { PurgeFilter } from '../engagement/types';
import type { EventBus } from '../event-bus';
import type { Db } from '../store/database';
import type { OutboxStore } from '../store/outbox-store';
import { type ConsentLedger, type LedgerEntry, type PurgeCounts, NO_PURGE } from './consent-ledger';
import { receiptOf } from './consent-receipt';
import { type ConsentScope, type ConsentSource, SPECIAL_CATEGORIES, WILDCARD } from './consent-rules';

export interface ConsentRequest {
  scope: ConsentScope;
  subject: string;
  target: string;
  granted: boolean;
  source: ConsentSource;
  policyVersion?: number;
  /** when the decision was made; defaults to now (upstream changes carry their own) */
  at?: number;
  /** also erase stored raw data in scope (device layer withdrawals) */
  erase?: boolean;
}

/** How far ahead of the gateway's clock an upstream decision may be dated (clock skew); later is refused. */
export const MAX_UPSTREAM_CLOCK_SKEW_MS = 5 * 60_000;

export interface ConsentResult {
  applied: boolean;
  /** why a request changed nothing (stale upstream change, refused device grant) */
  reason?: string;
  /** true when the request broke a rule (not merely stale): the downlink answers it as an error */
  refused?: boolean;
  entry: LedgerEntry | null;
  purged: PurgeCounts;
}

/** Parts that hold consent-scoped data and must erase it on withdrawal. */
export interface ConsentEffects {
  /** Pending writes first, so a purge also covers rows accepted a moment before the withdrawal. */
  beforeChange(): void;
  purgeEngagement(filter: PurgeFilter): number;
  /** Queued signals derived from a device's data (its profile × the campaigns it can qualify for). */
  purgeSignalsOfDevice(device: string): number;
  eraseRaw(device: string, category?: string): number;
  /** Device layer changed: re-send consent-state (0x83) so the device stops sampling. */
  deviceConsentChanged(device: string): void;
}

export interface ConsentPolicy {
  gatewayId: string;
  policyVersion: number;
  /** categories a device's own privacy button may grant (never health/biometric); withdrawing is always allowed */
  deviceButtonMayGrant: readonly string[];
}

/**
 * Applies consent changes (DESIGN §5). For a withdrawal, the erasure (queued signals, engagement state,
 * optionally raw rows), the ledger entry that records its counts and the receipt queued for upstream all
 * commit in one SQLite transaction; the in-memory rules change with the ledger append, so the very next frame
 * is already judged by them.
 */
export class ConsentService {
  constructor(
    private readonly db: Db,
    private readonly ledger: ConsentLedger,
    private readonly outbox: OutboxStore,
    private readonly bus: EventBus,
    private readonly effects: ConsentEffects,
    private readonly policy: ConsentPolicy,
  ) {}

  get rules() {
    return this.ledger.rules;
  }

  change(req: ConsentRequest, now = Date.now()): ConsentResult {
    // The ledger stays in time order: an entry is never dated before the one it follows.
    const at = Math.max(req.at ?? now, this.ledger.lastAt);
    this.effects.beforeChange();
    let entry: LedgerEntry | null = null;
    let purged: PurgeCounts = NO_PURGE;
    this.db.transaction(() => {
      const p = { outbox: 0, engagement: 0, raw: 0 };
      if (!req.granted) {
        if (req.scope === 'campaign') {
          p.outbox = this.outbox.purge({ profile: req.subject, campaign: req.target });
          p.engagement = this.effects.purgeEngagement({ profile: req.subject, campaign: req.target });
        } else if (req.scope === 'device') {
          const category = req.target === WILDCARD ? undefined : req.target;
          p.outbox =
            this.outbox.purge(category === undefined ? { device: req.subject } : { device: req.subject, category }) +
            this.effects.purgeSignalsOfDevice(req.subject);
          p.engagement = this.effects.purgeEngagement(category === undefined ? { device: req.subject } : { device: req.subject, category });
          if (req.erase) p.raw = this.effects.eraseRaw(req.subject, category);
        }
        // Channel withdrawals need no erasure: queued triggers are re-filtered by channel at publish.
      }
      entry = this.ledger.append(
        {
          scope: req.scope,
          subject: req.subject,
          target: req.target,
          granted: req.granted,
          source: req.source,
          policyVersion: req.policyVersion ?? this.policy.policyVersion,
          at,
        },
        p,
      );
      const receipt = receiptOf(entry, this.policy.gatewayId);
      // Receipts are synced upstream like signals but are never dropped for space (see docs/guarantees.md).
      this.outbox.enqueue({
        signalId: receipt.receiptId,
        kind: 'consent',
        profile: req.scope === 'device' ? null : req.subject,
        campaign: req.scope === 'campaign' ? req.target : null,
        device: req.scope === 'device' ? req.subject : null,
        category: null,
        payload: JSON.stringify(receipt),
        createdAt: at,
      });
      purged = p;
    })();
    if (req.scope === 'device') this.effects.deviceConsentChanged(req.subject);
    this.bus.emit('consent', {
      scope: req.scope,
      subject: req.subject,
      target: req.target,
      granted: req.granted,
      source: req.source,
      purged: purged.outbox + purged.engagement + purged.raw,
    });
    this.bus.emit('outbox', { rows: 1 });
    return { applied: true, entry, purged };
  }

  /**
   * Seeds the grants chosen at install (config `consent.grants`). A key that already has a decision in the
   * ledger is left alone, so a household's later withdrawal is never undone by a restart.
   */
  seed(requests: readonly ConsentRequest[]): number {
    let n = 0;
    // One transaction for all of them (each change nests as a savepoint): one WAL fsync at a fresh gateway's first
    // start instead of one per grant (28 in the bench's household: ~140 ms of its cold start on an SD card, #24).
    this.db.transaction(() => {
      for (const r of requests) {
        if (this.rules.decision(r.scope, r.subject, r.target) !== undefined) continue;
        this.change(r);
        n++;
      }
    })();
    return n;
  }

  /**
   * A change from the upstream platform, household first (docs/consent.md):
   * - dated more than MAX_UPSTREAM_CLOCK_SKEW_MS ahead of the gateway: refused; within it, recorded at now, so the
   *   ledger never holds a future entry;
   * - a grant of a special category (health, biometric) or of a device's wildcard: refused, those are the
   *   household's alone (CLI or panel);
   * - a grant over a household withdrawal (CLI, panel, device button) still in force: refused, whatever its date,
   *   until the household grants again;
   * - older than the decision already recorded for the key: ignored (a replay changes nothing).
   * Withdrawing is always allowed.
   */
  fromUpstream(req: ConsentRequest & { at: number }, now = Date.now()): ConsentResult {
    const refused = (reason: string): ConsentResult => ({ applied: false, refused: true, reason, entry: null, purged: NO_PURGE });
    if (!Number.isFinite(req.at) || req.at > now + MAX_UPSTREAM_CLOCK_SKEW_MS) {
      return refused(`"at" is more than ${MAX_UPSTREAM_CLOCK_SKEW_MS / 60_000} minutes ahead of the gateway's clock`);
    }
    if (req.granted && req.scope === 'device') {
      if (req.target === WILDCARD) return refused('a device-wide grant ("*") can only be given by the household (CLI or panel)');
      if (SPECIAL_CATEGORIES.has(req.target)) return refused(`${req.target} is a special category: only the household can grant it (CLI or panel)`);
    }
    if (req.granted && this.rules.householdWithdrew(req.scope, req.subject, req.target)) {
      return refused('the household withdrew this consent; only the household can grant it again (CLI or panel)');
    }
    const current = this.rules.decision(req.scope, req.subject, req.target);
    if (current !== undefined && current.at > req.at) {
      return {
        applied: false,
        reason: `ignored: the gateway holds a newer decision (${current.granted ? 'granted' : 'withdrawn'} at ${new Date(current.at).toISOString()})`,
        entry: null,
        purged: NO_PURGE,
      };
    }
    return this.change({ ...req, source: 'upstream', at: Math.min(req.at, now) }, now);
  }

  /**
   * The device's own privacy button (0x04): `s` is "device" (everything it collects) or one category.
   * Withdrawing is always allowed; granting only for categories the config lets the button grant, never for
   * special categories.
   */
  fromDevice(device: string, s: string, granted: boolean, categories: readonly string[], at: number): ConsentResult {
    const refused = (reason: string): ConsentResult => {
      this.effects.deviceConsentChanged(device); // show the device the unchanged state
      return { applied: false, reason, entry: null, purged: NO_PURGE };
    };
    const may = this.policy.deviceButtonMayGrant;
    if (granted) {
      if (s === 'device') {
        if (!may.includes(WILDCARD)) return refused('the config does not let the device button grant all categories');
        return this.change({ scope: 'device', subject: device, target: WILDCARD, granted: true, source: 'device' }, at);
      }
      if (SPECIAL_CATEGORIES.has(s)) return refused(`${s} is a special category: it can only be granted by name from the CLI or the panel`);
      if (!may.includes(s) && !may.includes(WILDCARD)) return refused(`the config does not let the device button grant ${s}`);
      return this.change({ scope: 'device', subject: device, target: s, granted: true, source: 'device' }, at);
    }
    if (s !== 'device') return this.change({ scope: 'device', subject: device, target: s, granted: false, source: 'device' }, at);
    // "Everything off": the wildcard and every category this device declared or was granted.
    let last = this.change({ scope: 'device', subject: device, target: WILDCARD, granted: false, source: 'device' }, at);
    const granted_ = this.rules
      .entries()
      .filter((e) => e.scope === 'device' && e.subject === device && e.granted && e.target !== WILDCARD)
      .map((e) => e.target);
    for (const c of new Set([...categories, ...granted_])) {
      if (this.rules.decision('device', device, c)?.granted === false) continue;
      last = this.change({ scope: 'device', subject: device, target: c, granted: false, source: 'device' }, at);
    }
    return last;
  }

  /** The 0x83 body for a device: every category it declared, with whether it may be sampled. */
  stateFor(device: string, categories: readonly string[]): Record<string, boolean> {
    const cats: Record<string, boolean> = {};
    for (const c of categories) cats[c] = this.rules.deviceAllows(device, c);
    return cats;
  }
}
