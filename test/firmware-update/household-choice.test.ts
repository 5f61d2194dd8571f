import * as fs from 'node:fs';
import * as path from 'node:path';
import { pageHeaders, rawRequest, signIn, startHousehold, type PanelHousehold } from '../panel/panel-harness';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { pendingUpdate } from './firmware-fixtures';

const HOUR = 3600_000;

describe('household panel: a pending firmware update and the household’s say on it (real agent, real HTTP)', () => {
  let hh: PanelHousehold;
  let s: { cookie: string; csrf: string };
  let plan: () => string;
  beforeAll(async () => {
    hh = await startHousehold();
    ({ plan } = pendingUpdate(hh.dataDir, 'scale-1'));
    s = await signIn(hh.base, hh.pairingCode());
  });
  afterAll(async () => hh.stop());

  const state = async (): Promise<{ devices: Array<{ id: string; update: Record<string, unknown> | null }> }> =>
    (await rawRequest(hh.base, 'GET', '/panel/api/state', { headers: pageHeaders(hh.base, s) })).json() as {
      devices: Array<{ id: string; update: Record<string, unknown> | null }>;
    };
  const choose = (device: string, body: unknown, headers = pageHeaders(hh.base, s)) =>
    rawRequest(hh.base, 'POST', `/panel/api/devices/${device}/firmware`, { headers, body: JSON.stringify(body) });

  it('shows the pending update on the device it is for, and on no other', async () => {
    expect(plan()).toBe('update PENDING');
    const st = await state();
    expect(st.devices.find((d) => d.id === 'scale-1')?.update).toEqual({
      package: { title: 'kitchen-scale', version: '2.5.0' },
      state: 'PENDING',
      step: null,
      progress: 0,
      reason: null,
      doNotUpdate: false,
      deferredUntil: null,
    });
    expect(st.devices.find((d) => d.id === 'wearable-1')?.update).toBeNull();
  });

  it('"not now" defers it: the rollout waits; "do not update" skips it; "allow again" puts it back', async () => {
    const before = Date.now();
    const r = await choose('scale-1', { choice: 'defer', hours: 2 });
    expect(r.status).toBe(200);
    const until = Date.parse((r.json() as { deferredUntil: string }).deferredUntil);
    expect(until).toBeGreaterThanOrEqual(before + 2 * HOUR);
    expect(until).toBeLessThanOrEqual(Date.now() + 2 * HOUR);
    expect(plan()).toBe('wait PENDING deferred by the household until …');
    expect((await state()).devices[0].update).toMatchObject({ state: 'PENDING', deferredUntil: new Date(until).toISOString() });

    expect((await choose('scale-1', { choice: 'never' })).json()).toEqual({ device: 'scale-1', doNotUpdate: true, deferredUntil: null });
    expect(plan()).toBe('done SKIPPED household chose do not update');
    expect((await state()).devices[0].update).toMatchObject({ state: 'SKIPPED', doNotUpdate: true });

    expect((await choose('scale-1', { choice: 'clear' })).status).toBe(200);
    expect(plan()).toBe('update PENDING');
    expect((await state()).devices[0].update).toMatchObject({ state: 'PENDING', doNotUpdate: false, deferredUntil: null });
  });

  it('refuses bad requests with one line and changes nothing; a change needs the session’s CSRF token', async () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['scale-1', { choice: 'later' }, 400, /"choice" must be "defer", "never" or "clear"/],
      ['scale-1', { choice: 'defer', hours: 0 }, 400, /"hours" must be a positive number/],
      ['scale-1', { choice: 'defer', hours: 10_000 }, 400, /at most 744/],
      ['scale-1', { choice: 'never', hours: 3 }, 400, /"hours" goes only with "defer"/],
      ['scale-1', { choice: 'never', device: 'wearable-1' }, 400, /unexpected field\(s\): device/],
      ['scale-1', [], 400, /JSON object/],
      ['nope', { choice: 'never' }, 404, /no device "nope"/],
    ];
    for (const [device, body, status, error] of cases) {
      const r = await choose(device, body);
      expect([r.status, (r.json() as { error: string }).error]).toEqual([status, expect.stringMatching(error)]);
    }
    const forged = await choose('scale-1', { choice: 'never' }, { ...pageHeaders(hh.base, s), 'x-csrf-token': 'guess' });
    expect(forged.status).toBe(403);
    expect(plan()).toBe('update PENDING');
  });
});

describe('edge-agent devices show: the device’s firmware update (built CLI)', () => {
  const t = tempDir('edge-fw-show-');
  afterAll(() => t.cleanup());

  it('shows the pending update, the household’s deferral and "do not update"; nothing when no package targets it', async () => {
    const dataDir = path.join(t.dir, 'data');
    fs.mkdirSync(dataDir);
    const cfg = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfg,
      [
        `gateway: { id: gw-show, dataDir: ${JSON.stringify(dataDir)} }`,
        'devices:',
        `  - { id: scale-7, transport: serial, port: ${JSON.stringify(path.join(t.dir, 'ttyUSB0'))}, profile: home-a }`,
        '  - { id: door-1, transport: sim, model: fridge-door, profile: home-a }',
        '',
      ].join('\n'),
    );
    const show = async (id: string, json = true) => runCli(['devices', 'show', id, '--config', cfg, ...(json ? ['--json'] : [])]);
    expect(JSON.parse((await show('scale-7')).stdout).update).toBeNull(); // no firmware directory at all
    const { plan } = pendingUpdate(dataDir, 'scale-7');
    expect(plan()).toBe('update PENDING');
    const pending = JSON.parse((await show('scale-7')).stdout) as { update: unknown };
    expect(pending.update).toMatchObject({ package: { title: 'kitchen-scale', version: '2.5.0' }, state: 'PENDING', doNotUpdate: false, deferredUntil: null });
    expect((await show('scale-7', false)).stdout).toMatch(/^ {2}update {5}kitchen-scale 2\.5\.0: PENDING; updates allowed$/m);

    const defer = await runCli(['firmware', 'defer', '--device', 'scale-7', '--hours', '5', '--config', cfg, '--json']);
    const until = (JSON.parse(defer.stdout) as { deferredUntil: number }).deferredUntil;
    expect(JSON.parse((await show('scale-7')).stdout).update).toMatchObject({ deferredUntil: new Date(until).toISOString() });
    expect((await show('scale-7', false)).stdout).toContain(
      `  update     kitchen-scale 2.5.0: PENDING; deferred by the household until ${new Date(until).toISOString()}`,
    );

    await runCli(['firmware', 'defer', '--device', 'scale-7', '--never', '--config', cfg]);
    expect(plan()).toBe('done SKIPPED household chose do not update');
    expect((await show('scale-7', false)).stdout).toMatch(
      /^ {2}update {5}kitchen-scale 2\.5\.0: SKIPPED — household chose do not update$/m,
    );
    expect(JSON.parse((await show('door-1')).stdout).update).toBeNull(); // another model: not a target
  }, 30_000);
});
