import { openDatabase, databasePath, type Db } from '../store/database';
import { GroupCommitter } from '../store/group-commit';
import { WalCheckpointer } from '../store/wal-checkpointer';
import { IngestStore } from '../store/ingest-store';
import { OutboxStore } from '../store/outbox-store';
import { CounterStore } from '../store/counter-store';
import type { Part } from '../part';
import { Intervals, type BaseContext } from './context';

export interface StoreContext {
  db: Db;
  /** WAL checkpoints in a worker thread; started by the pipeline once ingest is busy */
  checkpointer: WalCheckpointer;
  committer: GroupCommitter;
  outbox: OutboxStore;
  ingestStore: IngestStore;
  counters: CounterStore;
  /** the counters as saved at the last stop (or crash), for the parts that count to carry on from */
  savedCounters: ReadonlyMap<string, number>;
}

/** The SQLite file and the writers every later part shares. Essential: without it nothing starts. */
export class StorePart implements Part<BaseContext, StoreContext> {
  readonly name = 'store';
  private db: Db | null = null;
  private checkpointer: WalCheckpointer | null = null;
  private committer: GroupCommitter | null = null;
  private readonly intervals = new Intervals();

  async start({ config, logger, bus, clock }: BaseContext): Promise<StoreContext> {
    const db = openDatabase(databasePath(config.gateway.dataDir));
    this.db = db;
    // WAL checkpoints (megabytes and two fsyncs) in a worker thread, not inside a commit on the event loop (#11).
    this.checkpointer = new WalCheckpointer(db, 1000, (message) => logger.warn(message));
    // fsyncOffLoop: acks still wait for the WAL fsync, but decoding and decisions no longer stall behind it (#11).
    // The uplink only ever reads durable rows: a signal is never published for an event a power cut could still
    // take back (its device would retransmit it, and a second signal with a new id would follow).
    const outbox = new OutboxStore(db);
    const committer = new GroupCommitter(db, {
      maxDelayMs: config.storage.groupCommitMs,
      maxRows: config.storage.groupCommitRows,
      fsyncOffLoop: true,
      mark: () => outbox.lastId(),
      onDurable: () => bus.emit('outbox', { rows: 0 }),
    });
    this.committer = committer;
    outbox.onlyDurableUpTo(() => committer.durableMark());
    const ingestStore = new IngestStore(db);
    this.intervals.every(3_600_000, () => ingestStore.sweep(clock() - config.storage.rawRetentionDays * 86_400_000));
    const counters = new CounterStore(db);
    return { db, checkpointer: this.checkpointer, committer, outbox, ingestStore, counters, savedCounters: counters.load() };
  }

  async stop(): Promise<void> {
    this.intervals.clear();
    this.committer?.close(); // commit (and ack) what was accepted
    this.committer = null;
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.db?.close();
    this.db = null;
  }
}
