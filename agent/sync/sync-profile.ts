import type { OutboxRow } from '../store/outbox-store';

/** The upstream topic layouts (DESIGN §6); the config's upstream.profile is one of them. */
export const SYNC_PROFILES = ['generic', 'thingsboard'] as const;
export type SyncProfileName = (typeof SYNC_PROFILES)[number];

/** One MQTT message to publish; `rowIds` are the outbox rows it carries (deleted once it is PUBACKed). */
export interface Publication {
  topic: string;
  payload: string;
  retain?: boolean;
  rowIds: readonly number[];
}

/** An outbox row with the body that may leave the gateway now (after the sync-time consent check). */
export interface OutboxItem {
  row: OutboxRow;
  body: unknown;
}

export type DownlinkKind = 'consent' | 'campaign' | 'value' | 'conversion';

/** A downlink request decoded by a profile; `reply` is the profile's own context for answering it. */
export interface DownlinkRequest {
  kind: DownlinkKind | 'invalid';
  body: unknown;
  /** why an unusable request is invalid (bad JSON, unknown method…) */
  error?: string;
  reply: unknown;
}

export interface DownlinkAnswer {
  ok: boolean;
  data?: unknown;
  error?: string;
}

/**
 * How the outbox and the downlink map onto one upstream's topics and payloads (DESIGN §6). Profiles are pure:
 * they turn rows into publications and messages into requests; the publisher does all I/O.
 */
export interface SyncProfile {
  readonly name: SyncProfileName;
  /** last will, set at connect */
  will(): { topic: string; payload: string; retain: boolean } | null;
  subscriptions(): string[];
  /** published after every (re)connect, before any outbox data */
  onConnect(): Array<Omit<Publication, 'rowIds'>>;
  /** published on a clean shutdown */
  onStop(): Array<Omit<Publication, 'rowIds'>>;
  /** A run of items in outbox order → publications, each at most `maxPayloadBytes` when one item allows it. */
  encode(items: readonly OutboxItem[], maxPayloadBytes: number): Publication[];
  /** null when the topic is not one of ours */
  parseDownlink(topic: string, payload: Buffer): DownlinkRequest[] | null;
  answer(req: DownlinkRequest, answer: DownlinkAnswer): Omit<Publication, 'rowIds'> | null;
  /** the gateway's own figures, published every minute where the platform has a place for them */
  gatewayTelemetry?(values: Record<string, number | string | boolean | null>, ts: number): Omit<Publication, 'rowIds'>;
}

/**
 * Packs items into as few messages as fit `maxBytes`: `wrap` builds the message from a list of item JSON texts.
 * An item too big on its own still goes alone (the broker decides); order is kept.
 */
export function packItems<T>(
  items: readonly T[],
  itemJson: (item: T) => string,
  wrapSize: (itemsBytes: number, count: number) => number,
  maxBytes: number,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const b = Buffer.byteLength(itemJson(it));
    if (cur.length > 0 && wrapSize(bytes + b, cur.length + 1) > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Splits items into runs of the same kind, in outbox order (one message never mixes kinds). */
export function runsOfKind(items: readonly OutboxItem[]): Array<{ kind: OutboxItem['row']['kind']; run: OutboxItem[] }> {
  const out: Array<{ kind: OutboxItem['row']['kind']; run: OutboxItem[] }> = [];
  for (const it of items) {
    const last = out[out.length - 1];
    if (last && last.kind === it.row.kind) last.run.push(it);
    else out.push({ kind: it.row.kind, run: [it] });
  }
  return out;
}
