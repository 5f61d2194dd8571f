import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { StorageBudget } from '../../agent/store/storage-budget';
import { DeviceLink, HELLO_SCALE, dispense, reading, settle } from '../support/device-link';
import { tempDir } from '../support/temp-dir';
import { household } from './household';

const count = (agent: Agent, sql: string): number => (agent.database.prepare(sql).get() as { n: number }).n;

describe('storage.maxBytes drop policy (real SQLite file)', () => {
  it('drops raw readings first, then raw events, then index updates, then triggers; consent receipts never; counts each reason', async () => {
    const t = tempDir();
    const cfg = household(t.dir); // no upstream: everything stays queued
    cfg.storage.maxBytes = 1 << 20;
    const agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false });
    try {
      await agent.start();
      const a = new DeviceLink(agent, 'scale-a');
      a.send(HELLO_SCALE('scale-a'));
      // ~1.5 MiB of raw readings and a few hundred signals
      for (let i = 1; i <= 12_000; i++) a.send(reading(i, 1, i));
      for (let i = 12_001; i <= 12_300; i++) a.send(dispense(i));
      await settle(300);
      const receiptsBefore = count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'consent'");
      const signalsBefore = count(agent, "SELECT count(*) AS n FROM outbox WHERE kind = 'signal'");
      expect(receiptsBefore).toBe(5);
      const budget = new StorageBudget(agent.database, cfg.storage.maxBytes);
      expect(budget.usedBytes()).toBeGreaterThan(cfg.storage.maxBytes);
      const dropped = budget.enforce();
      expect(budget.usedBytes()).toBeLessThanOrEqual(cfg.storage.maxBytes);
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
      for (let i = 1; i <= 14_000; i++) a.send(reading(i, 1, i));
      await settle(100);
      for (let i = 0; i < 60 && agent.status().outbox.dropped === 0; i++) await settle(50);
      expect(agent.status().outbox.droppedByReason.raw_readings).toBeGreaterThan(0);

      // Engagement history is never dropped: enough of it fills the budget on its own.
      for (let i = 20_001; i <= 50_000; i++) a.send(dispense(i));
      for (let i = 0; i < 100 && !agent.status().storage.full; i++) await settle(50);
      const st = agent.status();
      expect(st.storage.full).toBe(true);
      expect(st.outbox.droppedByReason.raw_events).toBeGreaterThan(0);
      expect(st.outbox.droppedByReason.outbox_index_updates).toBeGreaterThan(0);
      expect(st.outbox.dropped).toBe(Object.values(st.outbox.droppedByReason).reduce((x, y) => x + y, 0));
      expect(st.outbox.pending).toBeGreaterThanOrEqual(5); // consent receipts stay

      // Frames committed before the budget filled are acked once their WAL fsync returns (off the event loop):
      // let those acks arrive before counting, so the count below is only about the frame sent when full.
      for (let prev = -1; prev !== a.acks().length; ) {
        prev = a.acks().length;
        await settle(100);
      }
      const acked = a.acks().length;
      a.send(dispense(60_001));
      await settle(100);
      expect(a.acks().length).toBe(acked); // refused, not acked: the device keeps it
      expect(agent.status().ingest.refusedStorageFull).toBeGreaterThan(0);

      // Space returns (the household erases the campaign history): the same frame, retransmitted, is accepted.
      agent.changeConsent({ scope: 'campaign', subject: 'home-a', target: 'coffee', granted: false, source: 'cli' });
      for (let i = 0; i < 60 && agent.status().storage.full; i++) await settle(50);
      expect(agent.status().storage.full).toBe(false);
      a.send(reading(60_001, 1, 1));
      await settle(100);
      expect(a.acks()).toContain(60_001 & 0xffff);
    } finally {
      await agent.stop();
      t.cleanup();
    }
  }, 60_000);
});
