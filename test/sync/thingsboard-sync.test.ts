import { spawnSync } from 'node:child_process';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE, dispense } from '../support/device-link';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { MqttChecker, hasMosquittoClients as hasClients } from '../support/mqtt-checker';
import { tempDir } from '../support/temp-dir';
import { thingsboardDoubleFixture } from '../support/thingsboard-double/jest-fixture';
import { waitUntil } from '../support/wait-until';
import { household } from './household';

const brew = (seq: number): DeviceFrame => ({ type: 'event', seq: seq & 0xffff, body: { e: 'brew', ch: 2 } });

describe('upstream sync, profile thingsboard, against the ThingsBoard double (the server parsing rules)', () => {
  const f = thingsboardDoubleFixture('GW_ACCESS_TOKEN', 2048); // the server's limit, as the agent is configured
  // a simulated clock: one second per event, so every signal of a campaign has its own ts
  let now = Date.UTC(2026, 0, 5, 8);
  const v = (profile: string, campaign: string): number | null | undefined =>
    f.agent!.status().engagement.find((e) => e.profile === profile && e.campaign === campaign)?.v;

  it('connects profiles, gets V, keeps campaigns apart in storage, and applies RPC, attribute updates and deletions', async () => {
    // an operator set V as a string in the UI before the gateway connected
    const tb = f.tb;
    await tb.setSharedAttributes('home-a', { v_tea: '64' });
    const agent = (f.agent = new Agent(household(f.dir, { url: tb.url, profile: 'thingsboard', accessToken: 'GW_ACCESS_TOKEN', maxPayloadBytes: 2048 }), {
      logger: silentLogger,
      drivers: [],
      api: false,
      clock: () => now,
    }));
    await agent.start();
    await waitUntil('profiles connected', () => tb.devices.get('home-a')?.connected === true && tb.devices.get('home-b')?.connected === true);
    expect(tb.devices.get('home-a')?.type).toBe('profile');
    // the attribute request is read by the server (not answered with a closed connection) and sets V
    await waitUntil('V from the attribute response', () => v('home-a', 'tea') === 64);
    expect(tb.log.filter((m) => m.topic === 'v1/gateway/attributes/request').map((m) => JSON.parse(m.payload))).toEqual([
      { id: 1, device: 'home-a', client: false, keys: ['v_tea'] },
      { id: 2, device: 'home-b', client: false, keys: ['v_tea'] },
    ]);

    const a = new DeviceLink(agent, 'scale-a');
    a.send(HELLO_SCALE('scale-a'));
    for (let i = 1; i <= 20; i++) {
      now += 1000;
      a.send(i % 2 === 0 ? brew(i) : dispense(i));
    }
    await waitUntil('both campaigns stored', () => tb.series('home-a', 'coffee.f').length === 10 && tb.series('home-a', 'tea.f').length === 10);
    // per-campaign keys: each campaign's series is whole, and no key is shared
    expect(tb.series('home-a', 'coffee.f').map((p) => p.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(tb.series('home-a', 'tea.f').map((p) => p.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(tb.series('home-a', 'tea.v').every((p) => p.value === 64)).toBe(true);
    expect(tb.series('home-a', 'coffee.v').every((p) => p.value === 50)).toBe(true);
    expect(tb.keys('home-a')).toEqual(
      ['channels', 'f', 'id', 'index', 'r', 'trigger', 'v'].flatMap((k) => [`coffee.${k}`, `tea.${k}`]).sort(),
    );
    expect(tb.latest('home-a')['coffee.f'].value).toBe(10);
    expect(tb.latest('home-a')['tea.f'].value).toBe(10);
    // consent receipts are the gateway's own telemetry (device "" in the double: the gateway itself)
    await waitUntil('receipts', () => tb.series('', 'consentReceipt').length >= 5);

    // server-side RPC to a profile device, in the server's shape, answered with the same id
    await expect(tb.rpcToDevice('home-a', 'setValue', { campaign: 'tea', v: 90 })).resolves.toMatchObject({ success: true });
    expect(v('home-a', 'tea')).toBe(90);
    await expect(tb.rpcToDevice('home-a', 'selfDestruct', {})).resolves.toMatchObject({
      success: false,
      error: expect.stringMatching(/unknown method "selfDestruct"/),
    });
    await expect(tb.rpcToDevice('home-a', 'toString', {})).resolves.toMatchObject({ success: false });

    // shared attribute update: a bad value is reported as a client attribute; a good one (a numeric string, as
    // the UI sends a string attribute) is applied and clears the error with a value ThingsBoard stores
    await tb.setSharedAttributes('home-a', { v_tea: 500 });
    await waitUntil('error reported', () => tb.clientAttribute('home-a', 'lastDownlinkStatus') === 'error');
    expect(tb.clientAttribute('home-a', 'lastDownlinkError')).toMatch(/"v" must be a number from 0 to 100/);
    await tb.setSharedAttributes('home-a', { v_tea: '12.5' });
    await waitUntil('V applied', () => v('home-a', 'tea') === 12.5);
    await waitUntil('error cleared', () => tb.clientAttribute('home-a', 'lastDownlinkError') === '');
    expect(tb.clientAttribute('home-a', 'lastDownlinkStatus')).toBe('ok');
    // deletion: V is unset again
    await tb.deleteSharedAttributes('home-a', ['v_tea']);
    await waitUntil('V unset', () => v('home-a', 'tea') === null);
    // changes made while the gateway is away reach it through the attribute request at reconnect: a value that
    // is set, and a value that is gone (the answer leaves the key out)
    await tb.setSharedAttributes('home-a', { v_tea: 33 });
    await waitUntil('V set', () => v('home-a', 'tea') === 33);
    await tb.restart(0, () => tb.setSharedAttributes('home-b', { v_tea: 44 }).then(() => tb.deleteSharedAttributes('home-a', ['v_tea'])));
    await waitUntil('V after reconnect', () => v('home-a', 'tea') === null && v('home-b', 'tea') === 44);

    // RPC to the gateway itself: a campaign definition
    await expect(
      tb.rpcToGateway('setCampaign', { id: 'filters', qualify: { event: 'dispense' }, value: 30, threshold: 10, channels: ['device'] }),
    ).resolves.toEqual({ success: true, data: { campaign: 'filters', result: 'added' } });

    await agent.stop();
    f.agent = null;
    await waitUntil('disconnects', () => tb.devices.get('home-a')?.connected === false && tb.devices.get('home-b')?.connected === false);
    expect(tb.rejections).toEqual([]);
    expect(tb.closesByServer).toBe(0);
  }, 60_000);
});

(hasMosquitto && hasClients ? describe : describe.skip)('upstream sync, profile thingsboard, transport over a real Mosquitto', () => {
  let t: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let checker: MqttChecker;
  let agent: Agent | null = null;
  beforeEach(async () => {
    t = tempDir();
    broker = new Mosquitto(await freePort());
    await broker.start();
    checker = new MqttChecker(broker.port, ['v1/#']);
    await checker.start();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    await checker.stop();
    await broker.dispose();
    t.cleanup();
  });

  it('sends telemetry split under the payload limit, and a plain broker echoing its RPC replies causes no reply loop', async () => {
    agent = new Agent(household(t.dir, { url: broker.url, profile: 'thingsboard', accessToken: 'GW_ACCESS_TOKEN', maxPayloadBytes: 2048 }), {
      logger: silentLogger,
      drivers: [],
      api: false,
    });
    await agent.start();
    await checker.waitFor('device connects', () => checker.on('v1/gateway/connect').length === 2);
    const a = new DeviceLink(agent, 'scale-a');
    a.send(HELLO_SCALE('scale-a'));
    for (let i = 1; i <= 40; i++) a.send(dispense(i));
    await checker.waitFor('40 signals', () => checker.json<Record<string, unknown[]>>('v1/gateway/telemetry').flatMap((m) => m['home-a'] ?? []).length === 40);
    expect(checker.on('v1/gateway/telemetry').length).toBeGreaterThan(1);
    for (const m of checker.on('v1/gateway/telemetry')) expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(2048);

    const r = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', 'v1/gateway/rpc', '-m',
      JSON.stringify({ device: 'home-a', data: { id: 7, method: 'setValue', params: { campaign: 'tea', v: 90 } } })]);
    expect(r.status).toBe(0);
    await checker.waitFor('rpc reply', () => checker.on('v1/gateway/rpc').length >= 2);
    // the broker hands the agent its own reply back: it is recognised as a reply (no method) and not answered
    await new Promise((res) => setTimeout(res, 500));
    expect(checker.on('v1/gateway/rpc')).toHaveLength(2);
  }, 60_000);
});
