import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { StorageBudget } from '../../agent/store/storage-budget';
import { DeviceLink, HELLO_SCALE, dispense, allAnswered, reading } from '../support/device-link';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';
import { household } from './household';

const count = (agent: Agent, sql: string): number => (agent.database.prepare(sql).get() as { n: number }).n;

/**
 * Sends frames made by `frame(seq)` in chunks until `reached()` holds (the agent enforces its budget every
 * second): how many frames fill a budget depends on the page size and the row layout, so it is found by
 * measuring, never assumed. Returns the next unused seq.
 */
async function feedUntil(agent: Agent, a: DeviceLink, from: number, frame: (seq: number) => Parameters<DeviceLink['send']>[0], reached: () => boolean, what: string): Promise<number> {
  let seq = from;
  while (!reached()) {
    if (seq - from > 200_000) throw new Error(`${what}: not reached after ${seq - from} frames`);
    for (const end = seq + 5000; seq < end; seq++) a.send(frame(seq));
    await allAnswered(agent);
    await waitUntil(what, reached, 1500).catch(() => undefined);
  }
  return seq;
}

describe('storage.maxBytes drop policy (real SQLite file)', () => {
  it('drops raw readings first, then raw events, then index updates, then triggers; consent receipts never; counts each reason', async () => {
    const t = tempDir();
    const cfg = household(t.dir); // no upstream: everything stays queued; the agent's own budget is far away
    const agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false });
    try {
      await agent.start();
      const a = new DeviceLink(agent, 'scale-a');
      a.send(HELLO_SCALE('scale-a'));
      // Mostly raw readings, and a few hundred signals
      for (let i = 1; i <= 12_000; i++) a.send(reading(i, 1, i));
      for (let i = 12_001; i <= 12_300; i++) a.send(dispense(i));
      await allAnswered(agent);
      const receiptsBefore = count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'consent'");
      const signalsBefore = count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'signal'");
      expect(receiptsBefore).toBe(5);
      // A budget three quarters of what is in use now (measured: it depends on page size and row layout).
      const used = new StorageBudget(agent.database, Infinity).usedBytes();
      const budget = new StorageBudget(agent.database, Math.floor(used * 0.75));
      expect(budget.usedBytes()).toBeGreaterThan(budget.maxBytes);
      const dropped = budget.enforce();
      expect(budget.usedBytes()).toBeLessThanOrEqual(budget.maxBytes);
      expect(dropped.raw_readings).toBeGreaterThan(0);
      // readings went first: the events and every signal and receipt are still there
      expect(dropped.raw_events ?? 0).toBe(0);
      expect(count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'signal'")).toBe(signalsBefore);
      expect(count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'consent'")).toBe(receiptsBefore);
      // the oldest readings went, the newest stayed
      const oldest = agent.database.prepare('SELECT min(v) AS v FROM readings').get() as { v: number };
      expect(oldest.v).toBeGreaterThan(1);
      expect(budget.full).toBe(false);

      // A budget smaller than what can never be dropped: everything droppable goes, receipts stay, `full` is set.
      const tight = new StorageBudget(agent.database, 1);
      const d2 = tight.enforce();
      expect(count(agent, 'SELECT count(*) AS n FROM readings')).toBe(0);
      expect(count(agent, 'SELECT count(*) AS n FROM events')).toBe(0);
      expect(count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'signal'")).toBe(0);
      expect(count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'consent'")).toBe(receiptsBefore);
      expect(d2.outbox_index_updates).toBe(signalsBefore);
      expect(tight.full).toBe(true);
      expect(agent.ledger.verify().ok).toBe(true);
    } finally {
      await agent.stop();
      t.cleanup();
    }
  });

  it('in the running agent: status shows drops by reason; when only undroppable data is left, frames are refused (not acked) until space returns', async () => {
    const t = tempDir();
    const cfg = household(t.dir);
    cfg.storage.maxBytes = 1 << 20;
    const agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false });
    try {
      await agent.start();
      const a = new DeviceLink(agent, 'scale-a');
      a.send(HELLO_SCALE('scale-a'));
      const readingsDropped = (): boolean => (agent.status().outbox.droppedByReason.raw_readings ?? 0) > 0;
      let seq = await feedUntil(agent, a, 1, (i) => reading(i, 1, i), readingsDropped, 'raw readings dropped');
      expect(agent.status().outbox.droppedByReason.raw_readings).toBeGreaterThan(0);

      // Engagement history is never dropped: enough of it fills the budget on its own.
      seq = await feedUntil(agent, a, seq, dispense, () => agent.status().storage.full, 'the budget full of undroppable data');
      const st = agent.status();
      expect(st.storage.full).toBe(true);
      expect(st.outbox.droppedByReason.raw_events).toBeGreaterThan(0);
      expect(st.outbox.droppedByReason.outbox_index_updates).toBeGreaterThan(0);
      expect(st.outbox.dropped).toBe(Object.values(st.outbox.droppedByReason).reduce((x, y) => x + y, 0));
      expect(st.outbox.pending).toBeGreaterThanOrEqual(5); // consent receipts stay

      // Frames committed before the budget filled are acked once their WAL fsync returns (off the event loop):
      // let those acks arrive before counting, so the count below is only about the frame sent when full.
      await allAnswered(agent);
      const acked = a.acks().length;
      a.send(dispense(seq));
      await allAnswered(agent);
      expect(a.acks().length).toBe(acked); // refused, not acked: the device keeps it
      expect(agent.status().ingest.refusedStorageFull).toBeGreaterThan(0);

      // Space returns (the household erases the campaign history): the same frame, retransmitted, is accepted.
      agent.changeConsent({ scope: 'campaign', subject: 'home-a', target: 'coffee', granted: false, source: 'cli' });
      await waitUntil('space to return', () => !agent.status().storage.full, 10_000);
      a.send(reading(seq + 1, 1, 1));
      await allAnswered(agent);
      expect(a.acks()).toContain((seq + 1) & 0xffff);
    } finally {
      await agent.stop();
      t.cleanup();
    }
  }, 120_000);
});
