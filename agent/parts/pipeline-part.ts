import * as path from 'node:path';
import { HouseholdChoices, deviceChoiceRequest } from '../firmware-update/household-choices';
import { IngestPipeline } from '../pipeline/ingest-pipeline';
import type { ConsentLedger } from '../consent/consent-ledger';
import type { ConsentService } from '../consent/consent-service';
import type { OutcomeService } from '../outcomes';
import type { Part } from '../part';
import { Intervals, errorMessage, type BaseContext } from './context';
import type { DevicesContext } from './devices-part';
import type { EngagementContext } from './engagement-part';
import type { StorageBudgetContext } from './storage-budget-part';
import type { StoreContext } from './store-part';

type In = BaseContext &
  StoreContext &
  StorageBudgetContext &
  DevicesContext &
  EngagementContext & { ledger: ConsentLedger; outcomes: OutcomeService; consent: ConsentService };

/** Frames per second from which WAL checkpoints move to a worker thread (they stall the loop under load). */
const CHECKPOINT_WORKER_FROM_FRAMES_PER_S = 100;

/** Driver frames → consent → durable store → engagement and outcomes (DESIGN §1, §3); its counters survive restarts. */
export class PipelinePart implements Part<In, { pipeline: IngestPipeline }> {
  readonly name = 'pipeline';
  private readonly intervals = new Intervals();
  /** commits what was accepted (so the counters include it), then saves the counters */
  private finish: (() => void) | null = null;

  async start(ctx: In): Promise<{ pipeline: IngestPipeline }> {
    const { config, logger, clock, bus, status, committer, ingestStore, ledger, budget, onStoreError, devices, engagement, outcomes, consent } = ctx;
    // the same file as the panel and `edge-agent firmware defer` (docs/firmware-updates.md §5)
    const household = new HouseholdChoices(path.join(config.gateway.dataDir, 'firmware'));
    const pipeline = new IngestPipeline({
      committer,
      store: ingestStore,
      consent: ledger.rules,
      engagement: {
        // engagement first, then outcomes (purchases, presence): both written in the event's transaction
        onEvent: (s, event, category, at, detail) => {
          const e = engagement.onEvent(s, event, category, at, detail);
          const o = outcomes.onEvent(s, event, category, at);
          if (o.persist === null) return e;
          const ep = e.persist;
          const op = o.persist;
          return { persist: () => (ep?.(), op()), afterCommit: e.afterCommit };
        },
      },
      deviceConsent: {
        onDeviceConsent: (s, subject, granted, at) => consent.fromDevice(s.id, subject, granted, s.categories(), at),
        consentState: (s) => consent.stateFor(s.id, s.categories()),
      },
      firmwareChoice: (s, choice, at) => {
        let c;
        try {
          c = household.set(s.id, deviceChoiceRequest(choice, at));
        } catch (err) {
          logger.warn('could not record the firmware choice from the device button (not acked: the device sends it again)', { device: s.id, error: errorMessage(err) });
          throw err;
        }
        bus.emit('firmware-choice', { device: s.id, choice: choice.d, until: c.deferredUntil });
      },
      bus,
      devices,
      clock,
      storageFull: () => budget.refuseNow(),
      maxFramesPerSecondPerDevice: config.ingest.maxFramesPerSecondPerDevice,
      onStoreError,
    });
    pipeline.counters.restore(ctx.savedCounters);
    const values = (): Map<string, number> => new Map([...pipeline.counters.toMap(), ...budget.toMap()]);
    const save = (): void => {
      try {
        ctx.counters.save(values());
      } catch (err) {
        logger.warn('could not save counters', { error: errorMessage(err) });
      }
    };
    this.finish = () => (committer.flush(), save());
    // Periodically the counters ride along with the next group commit: a commit and an fsync of their own on the
    // event loop every 5 s stalled frames behind a slow SD card (issue #24); they are statistics, not acked data.
    this.intervals.every(5000, () => {
      const w = ctx.counters.changes(values());
      if (w === null) return;
      committer.submit(w.write, (err) => (err ? logger.warn('could not save counters', { error: errorMessage(err) }) : w.written()));
    });
    // WAL checkpoints move to a worker thread once ingest is busy: at home load SQLite's own checkpoint is cheap,
    // and the worker thread costs ~10 MiB of RSS a quiet gateway should not pay.
    let acceptedBefore = pipeline.counters.accepted;
    const busyCheck = this.intervals.every(1000, () => {
      const rate = pipeline.counters.accepted - acceptedBefore;
      acceptedBefore = pipeline.counters.accepted;
      if (rate < CHECKPOINT_WORKER_FROM_FRAMES_PER_S) return;
      clearInterval(busyCheck); // once: a worker that cannot start falls back to SQLite's own checkpoint for good
      ctx.checkpointer.start();
    });
    status.set('ingest', () => pipeline.counters.snapshot());
    return { pipeline };
  }

  async stop(): Promise<void> {
    this.intervals.clear();
    this.finish?.();
    this.finish = null;
  }
}
