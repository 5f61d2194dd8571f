import { ConfigError, parseCampaignDefinition, type AgentConfig, type CampaignConfig } from '../config';
import { MAX_UPSTREAM_CLOCK_SKEW_MS, type ConsentRequest, type ConsentResult } from '../consent/consent-service';
import { ConsentTargetError, consentTarget } from '../consent/consent-target';
import { boundedText } from './downlink-payload';
import type { DownlinkAnswer, DownlinkRequest, Publication, SyncProfile } from './sync-profile';

export interface DownlinkTargets {
  config: AgentConfig;
  consent: { fromUpstream(req: ConsentRequest & { at: number }, now: number): ConsentResult };
  engagement: {
    setValue(profile: string, campaign: string, v: number): void;
    clearValue(profile: string, campaign: string): void;
    upsertCampaign(c: CampaignConfig): 'added' | 'updated';
    campaign(id: string): CampaignConfig | undefined;
  };
  saveCampaign(c: CampaignConfig): void;
  /** upstream-reported purchases for a trigger id (docs/outcomes.md); absent: conversions are refused */
  outcomes?: { reportConversion(trigger: string, at: number, profile?: string): unknown };
  clock: () => number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const fail = (error: string): DownlinkAnswer => ({ ok: false, error });

/** When an upstream decision was made: epoch ms or an ISO-8601 string; defaults to now. */
function decisionTime(v: unknown, now: number): number | null {
  if (v === undefined) return now;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/**
 * Applies downlink requests (DESIGN §6) through the same rules as local changes: consent through the consent
 * model (an older upstream grant never undoes a newer withdrawal), campaigns through the config schema (a bad
 * definition is rejected whole), V values only for campaigns that take V from upstream. Every request gets an
 * answer; a rejected one changes nothing.
 */
export class DownlinkHandler {
  accepted = 0;
  rejected = 0;
  lastError: string | null = null;

  constructor(private readonly t: DownlinkTargets) {}

  /**
   * One MQTT message in, the replies to publish out; never throws. The profile decodes and checks the whole
   * payload first (agent/sync/downlink-payload.ts), each request is applied or refused whole, and a reply that
   * cannot be encoded is replaced by a plain error reply (or dropped), never allowed to escape.
   */
  serve(profile: SyncProfile, topic: string, payload: Buffer): Array<Omit<Publication, 'rowIds'>> {
    let reqs: DownlinkRequest[] | null;
    try {
      reqs = profile.parseDownlink(topic, payload);
    } catch (err) {
      this.refused('invalid', err instanceof Error ? err.message : String(err));
      return [];
    }
    const out: Array<Omit<Publication, 'rowIds'>> = [];
    for (const req of reqs ?? []) {
      const a = this.handle(req);
      for (const answer of [a, fail('the reply could not be encoded')]) {
        try {
          const p = profile.answer(req, answer);
          if (p) out.push(p);
          break;
        } catch {
          // fall through to the plain error reply; if even that fails, the request goes unanswered
        }
      }
    }
    return out;
  }

  handle(req: DownlinkRequest): DownlinkAnswer {
    let a: DownlinkAnswer;
    try {
      a = this.apply(req);
    } catch (err) {
      a = fail(err instanceof Error ? err.message : String(err));
    }
    if (a.ok) this.accepted++;
    else {
      a = { ...a, error: boundedText(a.error ?? 'failed') };
      this.refused(req.kind, a.error!);
    }
    return a;
  }

  private refused(kind: string, error: string): void {
    this.rejected++;
    this.lastError = boundedText(`${kind}: ${error}`);
  }

  private apply(req: DownlinkRequest): DownlinkAnswer {
    switch (req.kind) {
      case 'invalid':
        return fail(req.error ?? 'invalid request');
      case 'consent':
        return this.consent(req.body);
      case 'campaign':
        return this.campaign(req.body);
      case 'value':
        return this.value(req.body);
      case 'conversion':
        return this.conversion(req.body);
    }
  }

  /** `{ "trigger": "<signal id>", "at"?: epoch ms | ISO }`: a purchase upstream saw, answering one trigger. */
  private conversion(b: unknown): DownlinkAnswer {
    if (!isObject(b)) return fail('body must be a JSON object');
    if (!this.t.outcomes) return fail('this gateway does not record outcomes');
    const trigger = str(b.trigger);
    if (!trigger) return fail('"trigger" must be the id of a trigger signal');
    const now = this.t.clock();
    const at = decisionTime(b.at, now);
    if (at === null) return fail('"at" must be epoch milliseconds or an ISO-8601 time');
    if (at > now + MAX_UPSTREAM_CLOCK_SKEW_MS) return fail('"at" is more than 5 minutes in the future');
    const unknown = Object.keys(b).filter((k) => k !== 'trigger' && k !== 'at' && k !== 'profile');
    if (unknown.length > 0) return fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (expected trigger, at)`);
    return { ok: true, data: this.t.outcomes.reportConversion(trigger, at, str(b.profile)) };
  }

  private consent(b: unknown): DownlinkAnswer {
    if (!isObject(b)) return fail('body must be a JSON object');
    if (typeof b.granted !== 'boolean') return fail('"granted" must be true or false');
    const now = this.t.clock();
    const at = decisionTime(b.at, now);
    if (at === null) return fail('"at" must be epoch milliseconds or an ISO-8601 time');
    // the clock-skew bound and the household-first rules are ConsentService.fromUpstream's
    let target;
    try {
      target = consentTarget(
        { device: str(b.device), category: str(b.category), profile: str(b.profile), campaign: str(b.campaign), channel: str(b.channel) },
        this.t.config,
      );
    } catch (err) {
      if (err instanceof ConsentTargetError) return fail(err.message.replace(/--/g, ''));
      throw err;
    }
    const r = this.t.consent.fromUpstream({ ...target, granted: b.granted, source: 'upstream', at }, now);
    if (r.refused) return fail(r.reason ?? 'refused');
    return { ok: true, data: { applied: r.applied, ...(r.reason ? { reason: r.reason } : {}), purged: r.purged } };
  }

  private campaign(b: unknown): DownlinkAnswer {
    let c: CampaignConfig;
    try {
      c = parseCampaignDefinition(b, this.t.config.devices.map((d) => d.id));
    } catch (err) {
      if (err instanceof ConfigError) return fail(err.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
      throw err;
    }
    this.t.saveCampaign(c);
    const result = this.t.engagement.upsertCampaign(c);
    return { ok: true, data: { campaign: c.id, result } };
  }

  private value(b: unknown): DownlinkAnswer {
    if (!isObject(b)) return fail('body must be a JSON object');
    const profile = str(b.profile);
    const campaign = str(b.campaign);
    if (!profile || !campaign) return fail('"profile" and "campaign" are required');
    const c = this.t.engagement.campaign(campaign);
    if (!c) return fail(`unknown campaign "${campaign}"`);
    if (c.value.kind !== 'upstream') return fail(`campaign "${campaign}" does not take V from upstream (its value is ${c.value.kind})`);
    const profiles = new Set(this.t.config.devices.map((d) => d.profile).filter(Boolean));
    if (!profiles.has(profile)) return fail(`unknown profile "${profile}"`);
    if (b.v === null) {
      // V deleted upstream (a ThingsBoard shared-attribute deletion): back to the campaign's default, or none
      this.t.engagement.clearValue(profile, campaign);
      return { ok: true, data: { profile, campaign, v: null } };
    }
    if (typeof b.v !== 'number' || !Number.isFinite(b.v) || b.v < 0 || b.v > 100) return fail('"v" must be a number from 0 to 100, or null to unset it');
    this.t.engagement.setValue(profile, campaign, b.v);
    return { ok: true, data: { profile, campaign, v: b.v } };
  }
}
