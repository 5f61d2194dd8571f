import { spawnSync } from 'node:child_process';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { DeviceLink, HELLO_SCALE, dispense, settle } from '../support/device-link';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { MqttChecker, hasMosquittoClients as hasClients } from '../support/mqtt-checker';
import { tempDir } from '../support/temp-dir';
import { household } from './household';


type Telemetry = Record<string, Array<{ ts: number; values: Record<string, unknown> }>>;

(hasMosquitto && hasClients ? describe : describe.skip)('upstream sync, profile thingsboard (gateway device API) against a real Mosquitto', () => {
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
  const pub = (topic: string, body: unknown): void => {
    const r = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', topic, '-m', JSON.stringify(body)]);
    expect(r.status).toBe(0);
  };

  it('connects profiles as devices, sends signals as their telemetry split under the payload limit, and answers RPC and attribute updates', async () => {
    agent = new Agent(household(t.dir, { url: broker.url, profile: 'thingsboard', accessToken: 'GW_ACCESS_TOKEN', maxPayloadBytes: 2048 }), {
      logger: silentLogger,
      drivers: [],
      api: false,
    });
    await agent.start();
    await checker.waitFor('device connects', () => checker.on('v1/gateway/connect').length === 2);
    expect(checker.json('v1/gateway/connect')).toEqual([
      { device: 'home-a', type: 'profile' },
      { device: 'home-b', type: 'profile' },
    ]);
    // V for upstream-valued campaigns is requested as shared attributes of each profile device
    expect(checker.json('v1/gateway/attributes/request')).toEqual([
      { id: 1, device: 'home-a', shared: ['v_tea'] },
      { id: 2, device: 'home-b', shared: ['v_tea'] },
    ]);
    pub('v1/gateway/attributes/response', { id: 1, device: 'home-a', values: { v_tea: 64 } });
    await settle(200);
    expect(agent.status().engagement.find((e) => e.profile === 'home-a' && e.campaign === 'tea')?.v).toBe(64);

    const a = new DeviceLink(agent, 'scale-a');
    a.send(HELLO_SCALE('scale-a'));
    for (let i = 1; i <= 40; i++) a.send(dispense(i));
    const entries = (): Array<{ ts: number; values: Record<string, unknown> }> => checker.json<Telemetry>('v1/gateway/telemetry').flatMap((m) => m['home-a'] ?? []);
    await checker.waitFor('40 signals as telemetry', () => entries().length === 40);
    const msgs = checker.on('v1/gateway/telemetry');
    expect(msgs.length).toBeGreaterThan(1); // split to respect the payload limit
    for (const m of msgs) expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(2048);
    const e = entries()[39];
    expect(Object.keys(e.values).sort()).toEqual(['campaign', 'channels', 'f', 'id', 'index', 'r', 'trigger', 'v']);
    expect(e.values).toMatchObject({ campaign: 'coffee', f: 40, v: 50, trigger: false });
    expect(typeof e.ts).toBe('number');
    // consent receipts are the gateway's own telemetry
    await checker.waitFor('receipts', () => checker.on('v1/devices/me/telemetry').length > 0);
    const receipts = checker.json<Array<{ ts: number; values: { consentReceipt?: { state: string } } }>>('v1/devices/me/telemetry').flat();
    expect(receipts.filter((r) => r.values.consentReceipt?.state === 'granted')).toHaveLength(5);

    // server-side RPC to a profile device, answered on v1/gateway/rpc with the same id
    pub('v1/gateway/rpc', { device: 'home-a', data: { id: 7, method: 'setValue', params: { campaign: 'tea', v: 90 } } });
    pub('v1/gateway/rpc', { device: 'home-a', data: { id: 8, method: 'setConsent', params: { campaign: 'coffee', granted: false } } });
    pub('v1/gateway/rpc', { device: 'home-a', data: { id: 9, method: 'selfDestruct', params: {} } });
    const rpcReplies = (): Array<{ device: string; id: number; data: { success: boolean; error?: string } }> =>
      checker.json<{ device: string; id: number; data: { success: boolean } }>('v1/gateway/rpc').filter((m) => 'id' in m && !('method' in (m as unknown as { data: object }).data));
    await checker.waitFor('rpc replies', () => rpcReplies().length === 3);
    expect(rpcReplies().map((r) => [r.device, r.id, r.data.success])).toEqual([
      ['home-a', 7, true],
      ['home-a', 8, true],
      ['home-a', 9, false],
    ]);
    expect(rpcReplies()[2].data.error).toMatch(/unknown method "selfDestruct"/);
    expect(agent.status().engagement.find((x) => x.profile === 'home-a' && x.campaign === 'tea')?.v).toBe(90);
    // the withdrawal took effect: new coffee events of home-a no longer count or leave the gateway
    const before = entries().length;
    a.send(dispense(41));
    await settle(300);
    expect(entries().length).toBe(before);

    // shared attribute update: bad value answered as a client attribute, good value applied
    pub('v1/gateway/attributes', { device: 'home-a', data: { v_tea: 500 } });
    await checker.waitFor('attribute answer', () =>
      checker.json<Record<string, { lastDownlinkStatus?: string }>>('v1/gateway/attributes').some((m) => m['home-a']?.lastDownlinkStatus === 'error'),
    );
    pub('v1/gateway/attributes', { device: 'home-a', data: { v_tea: 12 } });
    await settle(300);
    expect(agent.status().engagement.find((x) => x.profile === 'home-a' && x.campaign === 'tea')?.v).toBe(12);

    // gateway RPC: a campaign definition
    pub('v1/devices/me/rpc/request/42', { method: 'setCampaign', params: { id: 'filters', qualify: { event: 'dispense' }, value: 30, threshold: 10, channels: ['device'] } });
    await checker.waitFor('gateway rpc reply', () => checker.on('v1/devices/me/rpc/response/42').length === 1);
    expect(checker.json('v1/devices/me/rpc/response/42')[0]).toEqual({ success: true, data: { campaign: 'filters', result: 'added' } });

    await agent.stop();
    agent = null;
    await checker.waitFor('disconnects', () => checker.on('v1/gateway/disconnect').length === 2);
  }, 60_000);
});
