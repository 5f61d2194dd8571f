import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, migrate, MIGRATIONS, MigrationError, GroupCommitter, OutboxStore, CounterStore, IngestStore, commitDelayMs, PAGE_SIZE } from '../../agent/store';
import { tempDir } from '../support/temp-dir';

describe('database and migrations', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('opens a real file in WAL mode with synchronous=FULL and applies every migration', () => {
    const db = openDatabase(path.join(t.dir, 'a.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    db.close();
  });

  it('is idempotent: reopening applies nothing', () => {
    const file = path.join(t.dir, 'a.db');
    openDatabase(file).close();
    const db = new Database(file);
    expect(migrate(db)).toBe(0);
    db.close();
  });

  it('applies only newer migrations, forward only, in order', () => {
    const db = new Database(path.join(t.dir, 'b.db'));
    const ms = [
      { version: 1, name: 'a', sql: 'CREATE TABLE x (a INTEGER)' },
      { version: 2, name: 'b', sql: 'ALTER TABLE x ADD COLUMN b INTEGER' },
    ];
    expect(migrate(db, ms.slice(0, 1))).toBe(1);
    expect(migrate(db, ms)).toBe(1);
    expect(db.prepare("SELECT count(*) AS n FROM pragma_table_info('x')").get()).toEqual({ n: 2 });
    db.close();
  });

  it('refuses a database written by a newer agent', () => {
    const db = new Database(path.join(t.dir, 'c.db'));
    db.pragma('user_version = 99');
    expect(() => migrate(db)).toThrow(MigrationError);
    expect(() => migrate(db)).toThrow(/newer than this agent supports/);
    db.close();
  });

  it('a failing migration leaves the version unchanged', () => {
    const db = new Database(path.join(t.dir, 'd.db'));
    expect(() => migrate(db, [{ version: 1, name: 'bad', sql: 'CREATE TABLE y (a); SELECT * FROM nope' }])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'y'").get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('GroupCommitter', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('calls done only after the batch is committed, and the rows are visible to another connection', async () => {
    const file = path.join(t.dir, 'g.db');
    const db = openDatabase(file);
    db.exec('CREATE TABLE w (v INTEGER)');
    const gc = new GroupCommitter(db, { maxDelayMs: 20, maxRows: 1000 });
    const ins = db.prepare('INSERT INTO w (v) VALUES (?)');
    const other = new Database(file, { readonly: true });
    const seen: number[] = [];
    const all = Array.from({ length: 10 }, (_, i) =>
      new Promise<void>((resolve, reject) =>
        gc.submit(
          () => ins.run(i),
          (err) => {
            if (err) return reject(err);
            // durable means: another connection can read it now
            seen.push((other.prepare('SELECT count(*) AS n FROM w WHERE v = ?').get(i) as { n: number }).n);
            resolve();
          },
        ),
      ),
    );
    expect(gc.pending).toBe(10);
    expect((other.prepare('SELECT count(*) AS n FROM w').get() as { n: number }).n).toBe(0);
    await Promise.all(all);
    expect(seen).toEqual(Array(10).fill(1));
    expect(gc.stats.commits).toBe(1);
    other.close();
    db.close();
  });

  it.each([
    // gap between writes (ms), max, expected wait: about targetRows (64) writes' worth, within [5, max]
    { gap: Infinity, max: 1000, want: 5 }, // the first write after a quiet spell: nothing to wait for
    { gap: 60_000, max: 1000, want: 5 }, // one device once a minute: no companion within a second
    { gap: 1000, max: 1000, want: 5 }, // not even one companion expected within the longest wait
    { gap: 50, max: 1000, want: 1000 }, // home load, 20 frames/s: one commit a second
    { gap: 10, max: 1000, want: 640 }, // 100 frames/s
    { gap: 1, max: 1000, want: 64 }, // 1,000 frames/s: short waits, full batches
    { gap: 0.01, max: 1000, want: 5 }, // a flood: the floor
    { gap: 1, max: 2, want: 2 }, // a configured maximum below the floor wins
  ])('waits $want ms for companions when writes come every $gap ms (max $max)', ({ gap, max, want }) => {
    expect(commitDelayMs(gap, { maxDelayMs: max })).toBeCloseTo(want);
  });

  it('commits immediately when maxRows is reached', () => {
    const db = openDatabase(path.join(t.dir, 'h.db'));
    db.exec('CREATE TABLE w (v INTEGER)');
    const gc = new GroupCommitter(db, { maxDelayMs: 10_000, maxRows: 3 });
    const done: Array<Error | null> = [];
    for (let i = 0; i < 3; i++) gc.submit(() => db.prepare('INSERT INTO w VALUES (?)').run(i), (e) => done.push(e));
    expect(done).toEqual([null, null, null]);
    expect(gc.pending).toBe(0);
    db.close();
  });

  it('a failing write fails alone; its companions commit', () => {
    const db = openDatabase(path.join(t.dir, 'i.db'));
    db.exec('CREATE TABLE w (v INTEGER NOT NULL)');
    const gc = new GroupCommitter(db, { maxDelayMs: 10_000, maxRows: 100 });
    const done: Array<string | null> = [];
    gc.submit(() => db.prepare('INSERT INTO w VALUES (1)').run(), (e) => done.push(e ? e.message : null));
    gc.submit(() => db.prepare('INSERT INTO w VALUES (NULL)').run(), (e) => done.push(e ? 'failed' : null));
    gc.submit(() => db.prepare('INSERT INTO w VALUES (3)').run(), (e) => done.push(e ? e.message : null));
    gc.flush();
    expect(done).toEqual([null, 'failed', null]);
    expect(db.prepare('SELECT v FROM w ORDER BY v').all()).toEqual([{ v: 1 }, { v: 3 }]);
    expect(gc.stats.failures).toBe(1);
    db.close();
  });
});

describe('OutboxStore', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  const row = (signalId: string, profile: string, campaign: string) => ({
    signalId,
    kind: 'signal' as const,
    profile,
    campaign,
    device: null,
    category: null,
    payload: JSON.stringify({ id: signalId }),
    createdAt: 1000,
  });

  it('with the WAL fsynced off the loop, peek never returns a row before its batch is durable', async () => {
    const db = openDatabase(path.join(t.dir, 'd.db'));
    const outbox = new OutboxStore(db);
    let durableCalls = 0;
    const gc = new GroupCommitter(db, { maxDelayMs: 5, maxRows: 1, fsyncOffLoop: true, mark: () => outbox.lastId(), onDurable: () => durableCalls++ });
    outbox.onlyDurableUpTo(() => gc.durableMark());
    let seenAtAck: number | null = null;
    const acked = new Promise<void>((resolve, reject) =>
      gc.submit(
        () => outbox.enqueue(row('s1', 'home-a', 'coffee')),
        (err) => {
          if (err) return reject(err);
          seenAtAck = outbox.peek(10).length;
          resolve();
        },
      ),
    );
    // maxRows 1: committed at once, on this tick; its fsync runs on the thread pool and has not returned yet.
    expect((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n).toBe(1);
    expect(gc.durableMark()).toBe(0);
    expect(outbox.peek(10)).toEqual([]);
    await acked;
    expect(seenAtAck).toBe(1);
    expect(durableCalls).toBe(1);
    expect(gc.durableMark()).toBe(Infinity);
    expect(outbox.peek(10).map((r) => r.signalId)).toEqual(['s1']);
    // A row written outside the committer (a synchronous=FULL transaction, e.g. a consent receipt) is durable at once.
    outbox.enqueue(row('s2', 'home-a', 'coffee'));
    expect(outbox.peek(10).map((r) => r.signalId)).toEqual(['s1', 's2']);
    gc.close();
    db.close();
  });

  it('keeps publish order, removes by id, reports depth, and purges by scope', () => {
    const db = openDatabase(path.join(t.dir, 'o.db'));
    const ob = new OutboxStore(db);
    ob.enqueue(row('s1', 'a', 'x'));
    ob.enqueue(row('s2', 'b', 'x'));
    ob.enqueue(row('s3', 'a', 'y'));
    ob.enqueue(row('s4', 'a', 'x'));
    expect(ob.peek(10).map((r) => r.signalId)).toEqual(['s1', 's2', 's3', 's4']);
    expect(ob.depth().pending).toBe(4);
    expect(ob.purge({ profile: 'a', campaign: 'x' })).toBe(2);
    expect(ob.peek(10).map((r) => r.signalId)).toEqual(['s2', 's3']);
    ob.remove([ob.peek(1)[0].id]);
    expect(ob.peek(10).map((r) => r.signalId)).toEqual(['s3']);
    expect(() => ob.purge({})).toThrow(/scope/);
    db.close();
  });

  it('rejects a duplicate signal id (idempotency key)', () => {
    const db = openDatabase(path.join(t.dir, 'p.db'));
    const ob = new OutboxStore(db);
    ob.enqueue(row('same', 'a', 'x'));
    expect(() => ob.enqueue(row('same', 'a', 'x'))).toThrow(/UNIQUE/);
    db.close();
  });

  it('new databases use small pages, and an existing one keeps its page size', () => {
    const fresh = openDatabase(path.join(t.dir, 'small.db'));
    expect(fresh.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    fresh.close();
    const file = path.join(t.dir, 'old.db');
    const old = new Database(file);
    old.exec('CREATE TABLE x (v)'); // created with SQLite's default 4 KiB pages
    old.close();
    const db = openDatabase(file);
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    db.close();
  });

  it('a counter save writes only what changed, and nothing when nothing did', () => {
    const db = openDatabase(path.join(t.dir, 'q.db'));
    const changes = (): number => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    const store = new CounterStore(db);
    store.load();
    store.save(new Map([['a', 5], ['b', 7]]));
    const before = changes();
    store.save(new Map([['a', 5], ['b', 7]]));
    expect(changes()).toBe(before);
    store.save(new Map([['a', 6], ['b', 7]]));
    expect(changes()).toBe(before + 1);
    db.close();
  });

  it('the duplicate window: seqs committed since the last hello come back in commit order, across reopens and a migration from version 5', () => {
    const file = path.join(t.dir, 'w.db');
    let db = new Database(file);
    migrate(db, MIGRATIONS.filter((m) => m.version <= 5));
    db.prepare("INSERT INTO devices (id, transport, channels) VALUES ('d1', 'serial', '[]')").run();
    for (const [seq, at] of [[3, 30], [1, 10], [2, 20]]) db.prepare("INSERT INTO device_seqs (device, seq, at) VALUES ('d1', ?, ?)").run(seq, at);
    db.close();
    db = openDatabase(file); // migrates to the commit-ordered table
    let store = new IngestStore(db);
    expect(store.seqsSinceHello().get('d1')).toEqual([1, 2, 3]);
    store.seenSeq('d1', 4);
    store.device({ id: 'd1', transport: 'serial', profile: null, model: 'm', fw: '1', channels: [], at: 0 }); // a hello
    store.seenSeq('d1', 1); // a new window after the hello, whatever the clock says
    store.seenSeq('d2', 9);
    db.close();
    db = openDatabase(file);
    store = new IngestStore(db);
    expect(Object.fromEntries(store.seqsSinceHello())).toEqual({ d1: [1], d2: [9] });
    store.seenSeq('d1', 2); // stamps keep growing after a reopen
    for (let s = 3; s <= 10; s++) store.seenSeq('d1', s);
    store.trimSeqs('d1', 4);
    expect(new IngestStore(db).seqsSinceHello().get('d1')).toEqual([7, 8, 9, 10]);
    db.close();
  });

  it('counters saved through the group commit ride along with its batch (no commit of their own) and count as saved only once committed', async () => {
    const file = path.join(t.dir, 'g.db');
    const db = openDatabase(file);
    const store = new CounterStore(db);
    store.load();
    const committer = new GroupCommitter(db, { maxDelayMs: 50, maxRows: 500, fsyncOffLoop: true });
    db.exec('CREATE TABLE frames (n INTEGER)');
    const w = store.changes(new Map([['accepted', 3]]));
    expect(w).not.toBeNull();
    const saved = new Promise<void>((resolve, reject) => committer.submit(w!.write, (err) => (err ? reject(err) : (w!.written(), resolve()))));
    // a frame in the same window: one commit carries both
    const frame = committer.submitAsync(() => db.prepare('INSERT INTO frames VALUES (1)').run());
    expect(store.changes(new Map([['accepted', 3]]))).not.toBeNull(); // not committed yet: still to be written
    await Promise.all([saved, frame]);
    expect(committer.stats.commits).toBe(1);
    expect(store.changes(new Map([['accepted', 3]]))).toBeNull();
    committer.close();
    db.close();
    const reopened = openDatabase(file);
    expect([...new CounterStore(reopened).load()]).toEqual([['accepted', 3]]);
    reopened.close();
  });

  it('counters survive a reopen', () => {
    const file = path.join(t.dir, 'c.db');
    let db = openDatabase(file);
    new CounterStore(db).save(new Map([['a', 5], ['b', 7]]));
    db.close();
    db = openDatabase(file);
    expect([...new CounterStore(db).load()].sort()).toEqual([['a', 5], ['b', 7]]);
    db.close();
  });
});
