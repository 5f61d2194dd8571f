/**
 * Pure consent rules (DESIGN §5): default deny, three layers, special categories need a grant that names them.
 * No I/O: the ledger replays its entries into this state; enforcement points query it synchronously,
 * so a withdrawal applied here takes effect for the very next frame.
 */
import { SPECIAL_CATEGORIES as ART9_CATEGORIES } from '../../firmware-bridge/protocol/frames';

export type ConsentScope = 'device' | 'campaign' | 'channel';
export type ConsentSource = 'cli' | 'panel' | 'device' | 'upstream';

/** GDPR Art. 9 categories (the protocol's list), as a set for the enforcement points' lookups */
export const SPECIAL_CATEGORIES: ReadonlySet<string> = new Set(ART9_CATEGORIES);
export const WILDCARD = '*';

export interface ConsentChange {
  /** device id for scope `device`, profile id otherwise */
  subject: string;
  scope: ConsentScope;
  /** category (or `*`) for `device`, campaign id for `campaign`, channel for `channel` */
  target: string;
  granted: boolean;
  source: ConsentSource;
  policyVersion: number;
  at: number;
}

interface Decision {
  granted: boolean;
  at: number;
  policyVersion: number;
}

const key = (subject: string, target: string): string => `${subject}\u0000${target}`;

export class ConsentRules {
  private readonly layers: Record<ConsentScope, Map<string, Decision>> = {
    device: new Map(),
    campaign: new Map(),
    channel: new Map(),
  };
  /** A category listed here needs consent given under at least this policy version (re-consent after a bump). */
  private readonly minPolicy = new Map<string, number>();
  /** the household's own latest decision per key (cli, panel, device button), with its order of application */
  private readonly household: Record<ConsentScope, Map<string, { granted: boolean; order: number }>> = {
    device: new Map(),
    campaign: new Map(),
    channel: new Map(),
  };
  private applied = 0;

  apply(change: ConsentChange): void {
    const k = key(change.subject, change.target);
    this.layers[change.scope].set(k, {
      granted: change.granted,
      at: change.at,
      policyVersion: change.policyVersion,
    });
    this.applied++;
    if (change.source !== 'upstream') this.household[change.scope].set(k, { granted: change.granted, order: this.applied });
  }

  /**
   * Is a household withdrawal in force for this key — the household's latest own decision a withdrawal? For a
   * device category the device's wildcard counts too ("everything off" covers each category), whichever of the
   * two the household decided last. Upstream may not grant over it (docs/consent.md, household first).
   */
  householdWithdrew(scope: ConsentScope, subject: string, target: string): boolean {
    const own = this.household[scope];
    const keys = scope === 'device' && target !== WILDCARD ? [key(subject, target), key(subject, WILDCARD)] : [key(subject, target)];
    let latest: { granted: boolean; order: number } | undefined;
    for (const k of keys) {
      const d = own.get(k);
      if (d && (latest === undefined || d.order > latest.order)) latest = d;
    }
    return latest !== undefined && !latest.granted;
  }

  /** Latest decision recorded for exactly this (scope, subject, target), if any. */
  decision(scope: ConsentScope, subject: string, target: string): Decision | undefined {
    return this.layers[scope].get(key(subject, target));
  }

  requirePolicyVersion(category: string, version: number): void {
    this.minPolicy.set(category, version);
  }

  /** May `device` collect data of `category`? Wildcard grants never cover special categories. */
  deviceAllows(device: string, category: string): boolean {
    const min = this.minPolicy.get(category) ?? 0;
    const exact = this.layers.device.get(key(device, category));
    if (exact !== undefined) return exact.granted && exact.policyVersion >= min;
    if (SPECIAL_CATEGORIES.has(category)) return false;
    const wild = this.layers.device.get(key(device, WILDCARD));
    return wild !== undefined && wild.granted && wild.policyVersion >= min;
  }

  campaignAllows(profile: string, campaign: string): boolean {
    return this.layers.campaign.get(key(profile, campaign))?.granted === true;
  }

  channelAllows(profile: string, channel: string): boolean {
    return this.layers.channel.get(key(profile, channel))?.granted === true;
  }

  allowedChannels<C extends string>(profile: string, channels: readonly C[]): C[] {
    return channels.filter((c) => this.channelAllows(profile, c));
  }

  /** Every (scope, subject, target) with its current decision, for `consent show`. */
  entries(): Array<{ scope: ConsentScope; subject: string; target: string } & Decision> {
    const out: Array<{ scope: ConsentScope; subject: string; target: string } & Decision> = [];
    for (const scope of ['device', 'campaign', 'channel'] as const) {
      for (const [k, d] of this.layers[scope]) {
        const [subject, target] = k.split('\u0000');
        out.push({ scope, subject, target, ...d });
      }
    }
    return out;
  }
}
