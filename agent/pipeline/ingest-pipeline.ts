import type { DeviceFrame, FirmwareChoice, GatewayFrame, ProtocolError } from '../../firmware-bridge/protocol';
import type { FrameSink } from '../../drivers/types';
import type { ConsentRules } from '../consent/consent-rules';
import type { EventBus } from '../event-bus';
import type { GroupCommitter } from '../store/group-commit';
import type { IngestStore } from '../store/ingest-store';
import { DEDUPE_WINDOW, type DeviceSession } from './device-session';
import { DeviceRegistry } from '../devices/device-registry';
import { IngestCounters } from './ingest-counters';
import { TokenBucket } from './token-bucket';

/** Reaction of the engagement stage to one accepted event: DB work (run in the frame's transaction) and follow-ups. */
export interface StageResult {
  /** Writes the state delta and any outbox rows; runs inside the group-commit transaction. */
  persist: (() => void) | null;
  /** Runs after the commit (bus events, device notify). */
  afterCommit: (() => void) | null;
}

/** What an event frame carried besides its name (DESIGN §3 0x03 body). */
export interface EventDetail {
  ch?: number;
  v?: number;
  t?: number;
}

export interface EngagementStage {
  onEvent(device: DeviceSession, event: string, category: string, at: number, detail?: EventDetail): StageResult;
}

/** Device-side consent actions (0x04 frames) are handed to the consent service, which owns the ledger. */
export interface DeviceConsentHandler {
  onDeviceConsent(device: DeviceSession, subject: string, granted: boolean, at: number): void;
  consentState(device: DeviceSession): Record<string, boolean>;
}

/**
 * The household's say on a firmware update from the device's own button (0x06 frames): written durably to the
 * same household file the panel and `edge-agent firmware defer` write (agent/firmware-update/household-choices.ts),
 * before the frame is acked. Not data: no consent applies (PROTOCOL.md §4).
 */
export type DeviceFirmwareChoiceHandler = (device: DeviceSession, choice: { d: FirmwareChoice; h?: number }, at: number) => void;

export interface PipelineDeps {
  committer: GroupCommitter;
  store: IngestStore;
  consent: ConsentRules;
  engagement: EngagementStage;
  deviceConsent: DeviceConsentHandler;
  /** absent (tests of the pipeline alone): firmware-choice frames are not acked, so the device keeps them */
  firmwareChoice?: DeviceFirmwareChoiceHandler;
  bus: EventBus;
  /** the agent's device registry (a fresh one when absent: tests of the pipeline alone) */
  devices?: DeviceRegistry;
  clock?: () => number;
  /** true when the storage budget holds only undroppable data: data frames are then refused (not acked) */
  storageFull?: () => boolean;
  /** `ingest.maxFramesPerSecondPerDevice`: data frames over it are refused (not acked); absent = no limit */
  maxFramesPerSecondPerDevice?: number;
  /** a frame's write failed (it was not acked): lets the owner react, e.g. to a full disk */
  onStoreError?: (err: Error) => void;
}

/**
 * Driver frames → consent check → durable store → engagement → trigger → outbox (DESIGN §1, §3).
 * Consent is checked before anything is written: a denied reading only moves counters. Acks (0x81) are sent
 * only once the frame's transaction committed, or right away when the frame was deliberately dropped.
 */
const HELLOS_PER_SECOND = 1;
const HELLO_BURST = 5;

export class IngestPipeline implements FrameSink {
  readonly counters = new IngestCounters();
  readonly devices: DeviceRegistry;
  private readonly clock: () => number;
  private readonly buckets = new Map<string, TokenBucket>();
  /**
   * Hellos have their own, much smaller budget (issue #21): each one is a database write, a consent-state reply
   * and a panel event, and a device says hello once per connection. A burst of 5, then one a second.
   */
  private readonly helloBuckets = new Map<string, TokenBucket>();

  constructor(private readonly deps: PipelineDeps) {
    this.clock = deps.clock ?? Date.now;
    this.devices = deps.devices ?? new DeviceRegistry();
  }

  get sessions(): ReadonlyMap<string, DeviceSession> {
    return this.devices.sessions;
  }

  /** Every frame handed in so far has been answered: committed and acked, or refused (tests wait on this). */
  get idle(): boolean {
    return this.deps.committer.idle;
  }

  private session(id: string): DeviceSession {
    return this.devices.session(id);
  }

  /** Next gateway→device seq for a device (per direction, wraps at 16 bits). */
  nextSeq(deviceId: string): number {
    return this.devices.nextSeq(deviceId);
  }

  onLink(deviceId: string, connected: boolean, detail?: string): void {
    const s = this.session(deviceId);
    s.connected = connected;
    s.linkDetail = detail ?? null;
    this.deps.bus.emit('device', { id: deviceId, connected, ...(detail !== undefined ? { detail } : {}) });
  }

  onBadFrame(deviceId: string, _error: ProtocolError): void {
    this.session(deviceId).framesBad++;
    this.counters.framesBad++;
  }

  onFrame(deviceId: string, frame: DeviceFrame, reply: (frame: GatewayFrame) => void): void {
    const s = this.session(deviceId);
    const now = this.clock();
    s.framesOk++;
    s.lastSeen = now;
    switch (frame.type) {
      case 'hello':
        if (!this.helloWithinRate(s.id, now)) {
          // not answered: a device that really reconnected says hello again and gets its consent-state then
          s.rateLimited++;
          this.counters.rateLimited++;
          return;
        }
        return this.onHello(s, frame, now, reply);
      case 'heartbeat':
        s.uptimeS = frame.body.up;
        if (frame.body.rssi !== undefined) s.rssi = frame.body.rssi;
        return;
      case 'ack':
        // Command acks confirm delivery (DeviceCommander); nothing to store.
        this.deps.bus.emit('device-ack', { device: s.id, seq: frame.body.a });
        return;
      case 'reading':
      case 'event':
      case 'consent':
      case 'firmware-choice':
        return this.onData(s, frame, now, reply);
    }
  }

  /** One token per data frame from the device's bucket (a second's worth of burst). */
  private withinRate(s: DeviceSession, now: number): boolean {
    const rate = this.deps.maxFramesPerSecondPerDevice;
    if (rate === undefined) return true;
    let b = this.buckets.get(s.id);
    if (!b) {
      b = new TokenBucket(rate, Math.max(1, rate));
      this.buckets.set(s.id, b);
    }
    return b.take(now);
  }

  private helloWithinRate(device: string, now: number): boolean {
    let b = this.helloBuckets.get(device);
    if (!b) {
      b = new TokenBucket(HELLOS_PER_SECOND, HELLO_BURST);
      this.helloBuckets.set(device, b);
    }
    return b.take(now);
  }

  private ack(s: DeviceSession, seq: number, reply: (frame: GatewayFrame) => void): void {
    reply({ type: 'ack', seq: this.nextSeq(s.id), body: { a: seq } });
  }

  private onHello(
    s: DeviceSession,
    frame: Extract<DeviceFrame, { type: 'hello' }>,
    now: number,
    reply: (frame: GatewayFrame) => void,
  ): void {
    s.hello(frame.body.fw, frame.body.model, frame.body.ch, now, frame.body.cap);
    s.connected = true;
    const rec = {
      id: s.id,
      transport: s.transport,
      profile: s.profile,
      model: frame.body.model,
      fw: frame.body.fw,
      channels: frame.body.ch,
      caps: frame.body.cap,
      at: now,
    };
    // A new duplicate window starts at hello, on disk (devices.hello_ord) as in memory.
    this.deps.committer.submit(() => this.deps.store.device(rec), () => undefined);
    s.committedSinceTrim = 0;
    // Privacy at the source: tell the device right away which categories it may sample.
    reply({ type: 'consent-state', seq: this.nextSeq(s.id), body: { cats: this.deps.deviceConsent.consentState(s) } });
    this.deps.bus.emit('device', { id: s.id, connected: true });
  }

  private onData(
    s: DeviceSession,
    frame: Extract<DeviceFrame, { type: 'reading' | 'event' | 'consent' | 'firmware-choice' }>,
    now: number,
    reply: (frame: GatewayFrame) => void,
  ): void {
    if (!this.withinRate(s, now)) {
      // A flooding device must not starve the others of group commits. Not acked, so a well-behaved device
      // retransmits the frame later and nothing accepted is lost.
      s.rateLimited++;
      this.counters.rateLimited++;
      return;
    }
    const state = s.seq(frame.seq);
    if (state !== 'new') {
      this.counters.duplicates++;
      // The device missed our ack: repeat it, but never before the original is durable.
      if (state === 'durable') this.ack(s, frame.seq, reply);
      return;
    }

    if (frame.type === 'consent') {
      s.markPending(frame.seq);
      // Consent changes are committed synchronously by the ledger before we ack.
      this.deps.deviceConsent.onDeviceConsent(s, frame.body.s, frame.body.g, now);
      s.markDurable(frame.seq);
      this.ack(s, frame.seq, reply);
      return;
    }

    if (frame.type === 'firmware-choice') {
      const handler = this.deps.firmwareChoice;
      if (!handler) return;
      s.markPending(frame.seq);
      try {
        handler(s, frame.body, now); // durable (fsynced) when it returns
      } catch (err) {
        // Not durable: no ack, so the device retransmits it and the household's say is not lost.
        s.forget(frame.seq);
        this.deps.onStoreError?.(err as Error);
        return;
      }
      s.markDurable(frame.seq);
      this.ack(s, frame.seq, reply);
      return;
    }

    if (this.deps.storageFull?.()) {
      // Not acked: the device keeps the frame and retransmits it once space is back. Nothing accepted is lost.
      this.counters.refusedStorageFull++;
      return;
    }
    const consent = this.deps.consent;
    const store = this.deps.store;
    let work: (() => void) | null = null;
    let after: (() => void) | null = null;
    let accepted = 0;

    if (frame.type === 'reading') {
      const keep: Array<{ ch: number; v: number; t?: number; category: string }> = [];
      for (const r of frame.body.readings) {
        const category = s.category(r.ch);
        if (category !== undefined && consent.deviceAllows(s.id, category)) keep.push({ ...r, category });
        else this.counters.dropNoConsent(s.model);
      }
      if (keep.length > 0) {
        accepted = keep.length;
        work = () => {
          for (const r of keep) store.reading(s.id, r.ch, r.category, r.v, r.t, now);
        };
      }
    } else {
      const b = frame.body;
      const category = s.eventCategory(b.ch);
      if (category !== undefined && consent.deviceAllows(s.id, category)) {
        accepted = 1;
        const stage = this.deps.engagement.onEvent(s, b.e, category, now, { ch: b.ch, v: b.v, t: b.t });
        const persist = stage.persist;
        work = () => {
          store.event(s.id, b.e, category, b.ch, b.v, b.t, now);
          if (persist) persist();
        };
        after = stage.afterCommit;
      } else {
        this.counters.dropNoConsent(s.model);
      }
    }

    if (work === null) {
      // Deliberately dropped (no consent): nothing written, ack so the device does not retransmit forever.
      this.ack(s, frame.seq, reply);
      return;
    }
    s.markPending(frame.seq);
    const seq = frame.seq;
    const kind = frame.type;
    const write = work;
    // The seq is committed with the frame: after a crash the restarted agent still knows it (see restoreSeqs).
    const trim = ++s.committedSinceTrim >= DEDUPE_WINDOW;
    if (trim) s.committedSinceTrim = 0;
    work = () => {
      write();
      store.seenSeq(s.id, seq);
      if (trim) store.trimSeqs(s.id, DEDUPE_WINDOW);
    };
    this.deps.committer.submit(work, (err) => {
      if (err) {
        // Not durable: no ack, so the device retransmits and nothing accepted is lost.
        s.forget(seq);
        this.deps.onStoreError?.(err);
        return;
      }
      s.markDurable(seq);
      this.counters.accepted += accepted;
      this.ack(s, seq, reply);
      if (after) after();
      this.deps.bus.emit('ingested', { device: s.id, kind, at: now });
    });
  }
}
