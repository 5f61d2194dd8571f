import { commandFrameBody } from '../../agent/devices/device-commander';
import { PendingUpdateNotices } from '../../agent/firmware-update/pending-update-notices';
import type { DeviceUpdate, Rollout } from '../../agent/firmware-update/rollout-plan';
import { packageOf } from '../support/firmware-packages';

const device = (id: string, over: Partial<DeviceUpdate> = {}): DeviceUpdate => ({
  id,
  model: 'kitchen-scale',
  state: 'PENDING',
  step: null,
  fromVersion: '2.4.0',
  fw: '2.4.0',
  progress: 0,
  attempts: 0,
  reason: 'deferred by the household until 2026-12-07T10:00:00.000Z',
  rollbackReason: null,
  ...over,
});

describe('pending-update notices (the command "update" to capable devices)', () => {
  type Session = { connected: boolean; helloAt: number | null; caps: readonly string[] };
  let sessions: Map<string, Session>;
  let sent: string[];
  let notices: PendingUpdateNotices;
  const rollout = (version: string, ...devices: DeviceUpdate[]): Rollout => ({
    pkg: packageOf(Buffer.alloc(16), { title: 'kitchen-scale', version }),
    devices,
  });
  beforeEach(() => {
    sessions = new Map();
    sent = [];
    notices = new PendingUpdateNotices({
      session: (id) => sessions.get(id) ?? null,
      send: async (id, v) => sent.push(`${id} ${v}`),
    });
  });

  it.each<[string, Partial<DeviceUpdate>, Session | null, boolean]>([
    ['a waiting capable device is told', {}, { connected: true, helloAt: 1, caps: ['update'] }, true],
    ['waiting for its turn, busy, outside the window: told too', { reason: 'busy (unacked frames or a command in progress)' }, { connected: true, helloAt: 1, caps: ['update'] }, true],
    ['firmware without the capability is never sent it (it would reject the command)', {}, { connected: true, helloAt: 1, caps: [] }, false],
    ['an unknown capability is not "update"', {}, { connected: true, helloAt: 1, caps: ['ota2'] }, false],
    ['not connected', {}, { connected: false, helloAt: 1, caps: ['update'] }, false],
    ['an agent restarted: capabilities restored from the registry, no hello yet', {}, { connected: true, helloAt: null, caps: ['update'] }, true],
    ['an agent restarted: no capability on record', {}, { connected: true, helloAt: null, caps: [] }, false],
    ['no session', {}, null, false],
    ['the device about to be flashed (PENDING, no reason)', { reason: null }, { connected: true, helloAt: 1, caps: ['update'] }, false],
    ['SKIPPED (do not update)', { state: 'SKIPPED', reason: 'household chose do not update' }, { connected: true, helloAt: 1, caps: ['update'] }, false],
    ['UPDATING', { state: 'UPDATING', step: 'flashing', reason: null }, { connected: true, helloAt: 1, caps: ['update'] }, false],
    ['UPDATED', { state: 'UPDATED', reason: null }, { connected: true, helloAt: 1, caps: ['update'] }, false],
  ])('%s', (_name, over, session, told) => {
    if (session) sessions.set('scale-1', session);
    notices.refresh(rollout('2.5.0', device('scale-1', over)));
    expect(sent).toEqual(told ? ['scale-1 2.5.0'] : []);
  });

  it('once per version and per hello: again after a new hello or for a new version, not at every tick', () => {
    const s: Session = { connected: true, helloAt: 1, caps: ['update'] };
    sessions.set('scale-1', s);
    sessions.set('scale-2', { connected: true, helloAt: 5, caps: ['update'] });
    const r = rollout('2.5.0', device('scale-1'), device('scale-2', { reason: 'waiting for its turn (one device at a time)' }));
    notices.refresh(r);
    notices.refresh(r);
    expect(sent).toEqual(['scale-1 2.5.0', 'scale-2 2.5.0']);
    s.helloAt = 2; // scale-1 booted again
    notices.refresh(r);
    expect(sent).toEqual(['scale-1 2.5.0', 'scale-2 2.5.0', 'scale-1 2.5.0']);
    notices.refresh(rollout('2.6.0', device('scale-1')));
    expect(sent.at(-1)).toBe('scale-1 2.6.0');
    expect(sent).toHaveLength(4);
  });
});

describe('the "update" command body (checked like every command the gateway sends)', () => {
  it.each<[Record<string, unknown>, object | RegExp]>([
    [{ v: '2.5.0' }, { c: 'update', v: '2.5.0' }],
    [{}, /"v" must be the pending version/],
    [{ v: '' }, /"v" must be the pending version/],
    [{ v: 25 }, /"v" must be the pending version/],
    [{ v: 'x'.repeat(65) }, /at most 64 characters/],
    [{ v: '2.5.0', text: 'hi' }, /update takes only "v"/],
  ])('%j', (args, expected) => {
    if (expected instanceof RegExp) expect(() => commandFrameBody('update', args)).toThrow(expected);
    else expect(commandFrameBody('update', args)).toEqual(expected);
  });
});
