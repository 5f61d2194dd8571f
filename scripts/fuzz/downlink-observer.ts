import type { Agent } from '../../agent/controller';
import type { DownlinkHandler } from '../../agent/sync/downlink-handler';
import type { SyncProfile } from '../../agent/sync/sync-profile';

/** What the downlink side of the campaign counts (part of the FuzzReport). */
export interface DownlinkFigures {
  /** every message served and checked (with a plain broker, a ThingsBoard-profile agent's replies come back too) */
  messages: number;
  /** messages the campaign published to a real Mosquitto broker that an agent received and served */
  viaBroker: number;
  /** published to the broker but never handed to the agent (the broker dropped them) */
  lost: number;
  accepted: number;
  rejected: number;
  crashes: number;
  stateChangesOnReject: number;
  perSecond: number;
}

/** Replies longer than this are a finding: an answer must stay bounded whatever the request. */
const MAX_REPLY_BYTES = 70_000;
const MAX_DETAILS = 20;

/** The agent's methods a downlink may change state through (DownlinkTargets, agent/sync/downlink-handler.ts). */
const MUTATORS: ReadonlyArray<readonly [keyof Agent, readonly string[]]> = [
  ['consent', ['fromUpstream']],
  ['engagement', ['setValue', 'clearValue', 'upsertCampaign']],
  ['outcomes', ['reportConversion']],
];

/**
 * Watches downlink messages as the agent handles them, whoever hands them over (a handler fed directly, or the
 * agent's own MQTT client through a broker): every state-changing call on the agent's consent, engagement and
 * outcome services is counted, and each message is checked once served: it may not throw, its replies must be
 * bounded JSON, and a message answered only with errors may not have changed anything.
 */
export class DownlinkObserver {
  private mutations = 0;
  private readonly restores: Array<() => void> = [];

  constructor(
    private readonly figures: DownlinkFigures,
    private readonly details: string[],
  ) {}

  /** Counts the agent's mutating calls until `restore()`. */
  watchAgent(agent: Agent): void {
    for (const [part, methods] of MUTATORS) {
      const target = agent[part] as unknown as Record<string, unknown>;
      for (const m of methods) {
        const orig = target[m];
        if (typeof orig !== 'function') throw new Error(`fuzz: agent.${String(part)}.${m} is not a method any more`);
        const had = Object.prototype.hasOwnProperty.call(target, m);
        target[m] = (...a: unknown[]): unknown => {
          const r = (orig as (...x: unknown[]) => unknown).apply(target, a);
          // a consent request refused by the rules returns { applied: false } and changed nothing
          if (!(part === 'consent' && (r as { applied?: boolean } | undefined)?.applied === false)) this.mutations++;
          return r;
        };
        this.restores.push(() => {
          if (had) target[m] = orig;
          else delete target[m];
        });
      }
    }
  }

  /** Serves one message through `handler` (or runs `serve`, the real path's own call) and checks the outcome. */
  observe<R extends Array<{ topic: string; payload: string }>>(handler: DownlinkHandler, topic: string, payload: Buffer, serve: () => R): R | [] {
    const before = this.mutations;
    const rejectedBefore = handler.rejected;
    const acceptedBefore = handler.accepted;
    let replies: R;
    try {
      replies = serve();
    } catch (err) {
      this.figures.crashes++;
      this.note(`downlink ${topic}: ${String(err)}`);
      return [];
    } finally {
      this.figures.messages++;
    }
    for (const r of replies) {
      if (r.payload.length > MAX_REPLY_BYTES) {
        this.figures.crashes++;
        this.note(`reply of ${r.payload.length} bytes to ${topic}`);
      }
      try {
        JSON.parse(r.payload);
      } catch {
        this.figures.crashes++;
        this.note(`reply to ${topic} is not JSON`);
      }
    }
    const rejected = handler.rejected - rejectedBefore;
    const accepted = handler.accepted - acceptedBefore;
    this.figures.rejected += rejected;
    this.figures.accepted += accepted;
    if (rejected > 0 && accepted === 0 && this.mutations !== before) {
      this.figures.stateChangesOnReject++;
      this.note(`state changed by a rejected ${topic}: ${payload.toString('utf8', 0, 300)} → ${handler.lastError ?? ''}`);
    }
    return replies;
  }

  /** Observes every message any DownlinkHandler serves (the agent's own, fed by its MQTT client) until restore(). */
  watchServe(handlerClass: { prototype: DownlinkHandler }, onServed: (topic: string, payload: Buffer) => void): void {
    const proto = handlerClass.prototype;
    const orig = proto.serve;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const observer = this;
    proto.serve = function (this: DownlinkHandler, profile: SyncProfile, topic: string, payload: Buffer) {
      try {
        return observer.observe(this, topic, payload, () => orig.call(this, profile, topic, payload));
      } finally {
        onServed(topic, payload);
      }
    };
    this.restores.push(() => {
      proto.serve = orig;
    });
  }

  restore(): void {
    for (const r of this.restores.splice(0).reverse()) r();
  }

  private note(line: string): void {
    if (this.details.length < MAX_DETAILS) this.details.push(line);
  }
}
