import * as path from 'node:path';
import { openDatabase } from '../../agent/store';
import { ConsentLedger, ConsentRules, type ConsentChange } from '../../agent/consent';
import { tempDir } from '../support/temp-dir';

const change = (p: Partial<ConsentChange>): ConsentChange => ({
  scope: 'device',
  subject: 'scale-1',
  target: 'usage',
  granted: true,
  source: 'cli',
  policyVersion: 1,
  at: 1_700_000_000_000,
  ...p,
});

describe('ConsentRules (pure)', () => {
  it.each([
    // [grants, device, category, expected]
    [[], 'd', 'usage', false], // default deny
    [[{ target: 'usage' }], 'd', 'usage', true],
    [[{ target: 'usage' }], 'd', 'presence', false],
    [[{ target: '*' }], 'd', 'presence', true],
    [[{ target: '*' }], 'd', 'health', false], // wildcard never covers special categories
    [[{ target: '*' }], 'd', 'biometric', false],
    [[{ target: 'health' }], 'd', 'health', true],
    [[{ target: '*' }, { target: 'usage', granted: false }], 'd', 'usage', false], // exact withdrawal beats wildcard
    [[{ target: 'usage' }, { target: 'usage', granted: false }], 'd', 'usage', false],
    [[{ target: 'usage', subject: 'other' }], 'd', 'usage', false],
  ] as Array<[Array<Partial<ConsentChange>>, string, string, boolean]>)('%j → %s/%s = %s', (grants, device, category, expected) => {
    const r = new ConsentRules();
    for (const g of grants) r.apply(change({ subject: 'd', ...g }));
    expect(r.deviceAllows(device, category)).toBe(expected);
  });

  it('campaign and channel layers are separate and default deny', () => {
    const r = new ConsentRules();
    expect(r.campaignAllows('home-a', 'c1')).toBe(false);
    r.apply(change({ scope: 'campaign', subject: 'home-a', target: 'c1' }));
    r.apply(change({ scope: 'channel', subject: 'home-a', target: 'push' }));
    expect(r.campaignAllows('home-a', 'c1')).toBe(true);
    expect(r.campaignAllows('home-b', 'c1')).toBe(false);
    expect(r.allowedChannels('home-a', ['push', 'sms', 'device'])).toEqual(['push']);
  });

  it('a policy bump requires re-consent for a category', () => {
    const r = new ConsentRules();
    r.apply(change({ subject: 'd', target: 'presence', policyVersion: 1 }));
    expect(r.deviceAllows('d', 'presence')).toBe(true);
    r.requirePolicyVersion('presence', 2);
    expect(r.deviceAllows('d', 'presence')).toBe(false);
    r.apply(change({ subject: 'd', target: 'presence', policyVersion: 2 }));
    expect(r.deviceAllows('d', 'presence')).toBe(true);
  });
});

describe('ConsentLedger (SQLite, hash chain)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('appends, replays after reopen, and verifies', () => {
    const file = path.join(t.dir, 'l.db');
    let db = openDatabase(file);
    const l = new ConsentLedger(db);
    l.load();
    l.append(change({}));
    l.append(change({ target: 'health' }));
    l.append(change({ target: 'usage', granted: false, source: 'device' }));
    expect(l.verify()).toEqual({ ok: true, entries: 3 });
    db.close();
    db = openDatabase(file);
    const l2 = new ConsentLedger(db);
    l2.load();
    expect(l2.rules.deviceAllows('scale-1', 'usage')).toBe(false);
    expect(l2.rules.deviceAllows('scale-1', 'health')).toBe(true);
    const e = l2.append(change({ target: 'presence' }));
    expect(e.seq).toBe(4);
    expect(l2.verify().ok).toBe(true);
    db.close();
  });

  it.each([
    ['an edited field', "UPDATE consent_ledger SET granted = 1 WHERE seq = 2", 2, /entry 2 was edited/],
    ['an edited purge count', 'UPDATE consent_ledger SET purged_outbox = 0 WHERE seq = 2', 2, /entry 2 was edited/],
    [
      'two rows swapped',
      'UPDATE consent_ledger SET seq = -1 WHERE seq = 2; UPDATE consent_ledger SET seq = 2 WHERE seq = 3; UPDATE consent_ledger SET seq = 3 WHERE seq = -1',
      2,
      /entry 3 was moved to position 2 \(reordered\)/,
    ],
    ['a deleted row', 'DELETE FROM consent_ledger WHERE seq = 2', 2, /entry 2 is missing/],
    ['a rewritten hash', "UPDATE consent_ledger SET hash = 'ab' WHERE seq = 1", 1, /hash/],
  ])('verify detects %s', (_name, sql, brokenAt, reason) => {
    const db = openDatabase(path.join(t.dir, 'v.db'));
    const l = new ConsentLedger(db);
    l.append(change({}));
    l.append(change({ granted: false }), { outbox: 4, engagement: 2, raw: 0 });
    l.append(change({ target: 'presence' }));
    db.exec(sql);
    const v = l.verify();
    expect(v.ok).toBe(false);
    expect(v.brokenAt).toBe(brokenAt);
    expect(v.reason).toMatch(reason);
    db.close();
  });
});
