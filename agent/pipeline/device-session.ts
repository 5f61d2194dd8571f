import type { ChannelInfo } from '../../firmware-bridge/protocol';

/** How many recent sequence numbers are remembered for duplicate detection (retransmits arrive within a few frames). */
export const DEDUPE_WINDOW = 4096;

export type SeqState = 'new' | 'pending' | 'durable';

/**
 * Per-device link bookkeeping: what the last hello said, and which seqs were seen since it.
 * Seq is u16 and wraps, so "seen since hello" is kept as a bounded window of the most recent seqs.
 */
export class DeviceSession {
  fw: string | null = null;
  model: string | null = null;
  channels = new Map<number, ChannelInfo>();
  helloAt: number | null = null;
  /** what the last hello declared in `cap` (e.g. `update`: it understands the pending-update command) */
  caps: readonly string[] = [];
  lastSeen: number | null = null;
  connected = false;
  linkDetail: string | null = null;
  framesOk = 0;
  framesBad = 0;
  rssi: number | null = null;
  uptimeS: number | null = null;
  /** data frames refused (not acked) because the device went over `ingest.maxFramesPerSecondPerDevice` */
  rateLimited = 0;

  private readonly seqState = new Map<number, SeqState>();
  private readonly order: number[] = [];

  constructor(
    readonly id: string,
    readonly transport: string,
    readonly profile: string | null,
  ) {}

  hello(fw: string, model: string, channels: readonly ChannelInfo[], at: number, caps: readonly string[] = []): void {
    this.fw = fw;
    this.caps = caps;
    this.model = model;
    this.channels = new Map(channels.map((c) => [c.n, c]));
    this.helloAt = at;
    this.seqState.clear();
    this.order.length = 0;
  }

  /**
   * What the registry remembered from the device's last hello, after an agent restart. A device does not say
   * hello again when only the gateway restarted (the port stays powered), so without this its channels would
   * be unknown and every frame dropped as "no consent" — and acked, i.e. lost. The seq window is not restored.
   */
  restore(rec: {
    fw: string | null;
    model: string | null;
    channels: readonly ChannelInfo[];
    caps?: readonly string[];
    lastSeen: number | null;
  }): void {
    this.fw = rec.fw;
    this.model = rec.model;
    this.lastSeen = rec.lastSeen;
    if (this.caps.length === 0) this.caps = rec.caps ?? [];
    if (this.channels.size === 0) this.channels = new Map(rec.channels.map((c) => [c.n, c]));
  }

  seq(seq: number): SeqState {
    return this.seqState.get(seq) ?? 'new';
  }

  markPending(seq: number): void {
    if (!this.seqState.has(seq)) {
      this.order.push(seq);
      if (this.order.length > DEDUPE_WINDOW) this.seqState.delete(this.order.shift() as number);
    }
    this.seqState.set(seq, 'pending');
  }

  markDurable(seq: number): void {
    if (this.seqState.get(seq) === 'pending') this.seqState.set(seq, 'durable');
  }

  /** Seqs committed before an agent restart (oldest first), so their retransmissions are known duplicates. */
  restoreSeqs(seqs: readonly number[]): void {
    for (const seq of seqs) {
      this.markPending(seq);
      this.markDurable(seq);
    }
  }

  /** Frames committed since hello; every DEDUPE_WINDOW of them the stored window is trimmed to match. */
  committedSinceTrim = 0;

  /** A frame whose write failed is forgotten so the device's retransmission is processed again. */
  forget(seq: number): void {
    this.seqState.delete(seq);
  }

  /** Category of a channel as declared in hello; undefined means "unknown" and is denied. */
  category(ch: number): string | undefined {
    return this.channels.get(ch)?.c;
  }

  /**
   * Category an event belongs to: its channel's, or — for events without `ch` — the device's first channel of
   * kind "event". Undefined means the event cannot be attributed and is denied (default deny).
   */
  eventCategory(ch: number | undefined): string | undefined {
    if (ch !== undefined) return this.category(ch);
    for (const c of this.channels.values()) if (c.k === 'event') return c.c;
    return undefined;
  }

  categories(): string[] {
    return [...new Set([...this.channels.values()].map((c) => c.c))];
  }
}
