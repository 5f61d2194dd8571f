import type { GatewayFrame } from '../../firmware-bridge/protocol';

type Ack = Extract<GatewayFrame, { type: 'ack' }>;

/** FNV-1a over the frame bytes: tells a retransmission (same bytes) from a new frame that reuses a seq. */
export function frameHash(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** Longer than any commit wait (storage.groupCommitMs is at most 1 s, plus an fsync on a slow SD card). */
const IN_FLIGHT_MS = 15_000;

/**
 * Frames of one device the gateway acked (so: durable) — kept across reconnects. Every BLE reconnect
 * forwards the device's hello (fresh consent-state, current fw), which restarts the pipeline's duplicate
 * window; a device retransmitting a frame whose ack was lost in the link drop would then be stored twice.
 * The driver answers such a retransmission itself with the ack it already sent. A frame only matches when
 * its bytes are identical, so a device that rebooted and reuses seqs is never mistaken for a retransmission.
 */
export class AckedFrames {
  /** seq → frame hash and when it was handed to the pipeline, until its ack comes back */
  private readonly inFlight = new Map<number, { hash: number; at: number }>();
  private readonly acked = new Map<number, { hash: number; ack: Ack }>();
  suppressed = 0;

  constructor(
    private readonly capacity = 4096,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A data frame was handed to the pipeline. */
  forwarded(seq: number, hash: number): void {
    this.inFlight.set(seq, { hash, at: this.clock() });
    if (this.inFlight.size > this.capacity) this.inFlight.delete(this.inFlight.keys().next().value as number);
  }

  /** The pipeline acked a frame (whether or not the ack reached the device). */
  ackSent(ack: Ack): void {
    const hash = this.inFlight.get(ack.body.a)?.hash;
    if (hash === undefined) return;
    this.inFlight.delete(ack.body.a);
    this.acked.delete(ack.body.a);
    this.acked.set(ack.body.a, { hash, ack });
    if (this.acked.size > this.capacity) this.acked.delete(this.acked.keys().next().value as number);
  }

  /** The ack to repeat when this frame is a retransmission of one already acked; null when it is new. */
  repeatAck(seq: number, hash: number): Ack | null {
    const a = this.acked.get(seq);
    if (!a || a.hash !== hash) return null;
    this.suppressed++;
    return a.ack;
  }

  /**
   * True when this frame is a retransmission of one the pipeline is still committing (the link dropped and the
   * reconnect's hello restarted the pipeline's duplicate window meanwhile): its ack follows the commit, so this copy
   * is dropped. After IN_FLIGHT_MS without an ack the copy is forwarded again, so a lost ack can never wedge a frame.
   */
  stillCommitting(seq: number, hash: number): boolean {
    const f = this.inFlight.get(seq);
    if (!f || f.hash !== hash || this.clock() - f.at > IN_FLIGHT_MS) return false;
    this.suppressed++;
    return true;
  }

  /** The device booted (it notified its hello): its seqs start again. */
  clear(): void {
    this.inFlight.clear();
    this.acked.clear();
  }
}
