import { StorageBudget, isDiskFull } from '../store/storage-budget';
import type { Part } from '../part';
import { Intervals, errorMessage, type BaseContext } from './context';
import type { StoreContext } from './store-part';

export interface StorageBudgetContext {
  budget: StorageBudget;
  /** a frame could not be written (it was not acked): on a full disk the drop policy applies at once */
  onStoreError: (err: Error) => void;
}

/** storage.maxBytes and the full disk: drops by policy, refuses frames when only undroppable data is left. */
export class StorageBudgetPart implements Part<BaseContext & StoreContext, StorageBudgetContext> {
  readonly name = 'storage-budget';
  private readonly intervals = new Intervals();
  private stopped = false;

  async start({ config, logger, status, db, outbox, savedCounters }: BaseContext & StoreContext): Promise<StorageBudgetContext> {
    const budget = new StorageBudget(db, config.storage.maxBytes);
    budget.restore(savedCounters);
    const enforce = (): void => {
      if (this.stopped) return; // a disk-full check scheduled just before the stop
      try {
        const wasFull = budget.full;
        const dropped = budget.enforce();
        if (Object.keys(dropped).length > 0) logger.warn('storage.maxBytes reached: dropped by policy', dropped);
        if (budget.full !== wasFull) {
          logger[budget.full ? 'error' : 'info'](
            budget.full ? 'storage full of data that is never dropped: refusing new frames until space returns' : 'storage has room again',
            { usedBytes: budget.usedBytes(), maxBytes: budget.maxBytes },
          );
        }
      } catch (err) {
        logger.error('storage budget check failed', { error: errorMessage(err) });
      }
    };
    enforce();
    this.intervals.every(1000, enforce);
    let diskFullPending = false;
    const onStoreError = (err: Error): void => {
      if (!isDiskFull(err) || diskFullPending) return;
      diskFullPending = true;
      budget.onDiskFull();
      logger.error('the disk is full: new frames are refused (not acked) until the drop policy makes room', { error: err.message });
      setImmediate(() => {
        diskFullPending = false;
        enforce();
      });
    };
    status.set('outbox', (now) => {
      const depth = outbox.depth();
      const oldest = outbox.oldestCreatedAt();
      return {
        pending: depth.pending,
        bytes: depth.bytes,
        oldestAgeS: oldest === null ? null : Math.max(0, Math.round((now - oldest) / 1000)),
        dropped: budget.total(),
        droppedByReason: Object.fromEntries(budget.dropped),
        droppedNoConsentAtSync: 0, // the uplink's part fills this in
      };
    });
    status.set('storage', () => ({
      usedBytes: budget.usedBytes(),
      maxBytes: budget.maxBytes,
      full: budget.full,
      diskFull: budget.diskLimit !== null,
      limitBytes: budget.limitBytes,
    }));
    return { budget, onStoreError };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.intervals.clear();
  }
}
