import type { EventBus } from '../event-bus';
import type { OutboxStore } from '../store/outbox-store';
import type { ConsentLedger, LedgerEntry } from './consent-ledger';
import { type ConsentScope, type ConsentSource, SPECIAL_CATEGORIES, WILDCARD } from './consent-rules';

export interface ConsentRequest {
  scope: ConsentScope;
  subject: string;
  target: string;
  granted: boolean;
  source: ConsentSource;
  policyVersion?: number;
}

export interface ConsentResult {
  entry: LedgerEntry | null;
  /** rows erased because of a withdrawal: outbox rows, engagement events */
  purged: { outbox: number; engagement: number };
}

/** Parts that hold consent-scoped data and must erase it on withdrawal. */
export interface ConsentEffects {
  beforeChange(): void;
  purgeEngagement(filter: { profile?: string; campaign?: string }): number;
  /** Device layer changed: re-send consent-state (0x83) so the device stops sampling. */
  deviceConsentChanged(device: string): void;
  /** Profiles a device feeds, to scope engagement erasure after a device-layer withdrawal. */
  profileOfDevice(device: string): string | null;
}

/**
 * Applies consent changes: ledger first (durable, hash-chained), then in-memory rules (so the next frame is
 * already judged by them), then erasure of in-scope queued signals and engagement state for withdrawals.
 */
export class ConsentService {
  constructor(
    private readonly ledger: ConsentLedger,
    private readonly outbox: OutboxStore,
    private readonly bus: EventBus,
    private readonly effects: ConsentEffects,
    private readonly defaultPolicyVersion: number,
  ) {}

  get rules() {
    return this.ledger.rules;
  }

  change(req: ConsentRequest, at = Date.now()): ConsentResult {
    this.effects.beforeChange();
    const entry = this.ledger.append({
      scope: req.scope,
      subject: req.subject,
      target: req.target,
      granted: req.granted,
      source: req.source,
      policyVersion: req.policyVersion ?? this.defaultPolicyVersion,
      at,
    });
    const purged = { outbox: 0, engagement: 0 };
    if (!req.granted) {
      if (req.scope === 'campaign') {
        purged.outbox = this.outbox.purge({ profile: req.subject, campaign: req.target });
        purged.engagement = this.effects.purgeEngagement({ profile: req.subject, campaign: req.target });
      } else if (req.scope === 'device') {
        purged.outbox = this.outbox.purge(
          req.target === WILDCARD ? { device: req.subject } : { device: req.subject, category: req.target },
        );
      }
    }
    if (req.scope === 'device') this.effects.deviceConsentChanged(req.subject);
    this.bus.emit('consent', {
      scope: req.scope,
      subject: req.subject,
      target: req.target,
      granted: req.granted,
      source: req.source,
      purged: purged.outbox + purged.engagement,
    });
    return { entry, purged };
  }

  /**
   * Seeds the grants chosen at install (config `consent.grants`). A key that already has a decision in the
   * ledger is left alone, so a household's later withdrawal is never undone by a restart.
   */
  seed(requests: readonly ConsentRequest[]): number {
    let n = 0;
    for (const r of requests) {
      if (this.rules.decision(r.scope, r.subject, r.target) !== undefined) continue;
      this.change(r);
      n++;
    }
    return n;
  }

  /** A device's own privacy button (0x04): `s` is "device" (all it collects) or one category. */
  fromDevice(device: string, s: string, granted: boolean, categories: readonly string[], at: number): void {
    if (s !== 'device') {
      this.change({ scope: 'device', subject: device, target: s, granted, source: 'device' }, at);
      return;
    }
    if (granted) {
      // A wildcard never covers special categories: those stay as they are until granted by name.
      this.change({ scope: 'device', subject: device, target: WILDCARD, granted: true, source: 'device' }, at);
      return;
    }
    this.change({ scope: 'device', subject: device, target: WILDCARD, granted: false, source: 'device' }, at);
    for (const c of categories) {
      if (this.rules.decision('device', device, c)?.granted === true || SPECIAL_CATEGORIES.has(c)) {
        this.change({ scope: 'device', subject: device, target: c, granted: false, source: 'device' }, at);
      }
    }
  }

  /** The 0x83 body for a device: every category it declared, with whether it may be sampled. */
  stateFor(device: string, categories: readonly string[]): Record<string, boolean> {
    const cats: Record<string, boolean> = {};
    for (const c of categories) cats[c] = this.rules.deviceAllows(device, c);
    return cats;
  }
}
