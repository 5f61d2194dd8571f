import { spawnSync } from 'node:child_process';
import { Agent } from '../../agent/controller';
import type { AgentConfig, ConfigInput } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import type { OutcomesSignal } from '../../agent/outcomes';
import { DeviceLink, HELLO_SCALE, dispense } from '../support/device-link';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { MqttChecker, hasMosquittoClients as hasClients } from '../support/mqtt-checker';
import { tempDir } from '../support/temp-dir';
import { thingsboardDoubleFixture } from '../support/thingsboard-double/jest-fixture';
import { waitUntil } from '../support/wait-until';
import { testConfig } from '../support/test-config';
import { TEST_TUNING, TWO_SCALES, bothScalesGrant } from '../sync/household';

function household(dataDir: string, upstream: NonNullable<ConfigInput['upstream']>): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-out',
    upstream: { reconnect: { minMs: 50, maxMs: 300 }, ...upstream },
    devices: TWO_SCALES,
    campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: 50, threshold: 30, channels: ['push'] }],
    ...TEST_TUNING,
    consent: { grants: bothScalesGrant(['coffee'], ['push']) },
    outcomes: { signalInterval: '1s' },
  });
}

(hasMosquitto && hasClients ? describe : describe.skip)(
  'upstream conversions and outcome aggregates against a real Mosquitto',
  () => {
    let t: ReturnType<typeof tempDir>;
    let broker: Mosquitto;
    let checker: MqttChecker;
    let agent: Agent | null = null;
    beforeEach(async () => {
      t = tempDir();
      broker = new Mosquitto(await freePort());
      await broker.start();
    });
    afterEach(async () => {
      await agent?.stop();
      agent = null;
      await checker.stop();
      await broker.dispose();
      t.cleanup();
    });
    const pub = (topic: string, body: unknown): void => {
      const r = spawnSync('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-q',
        '1',
        '-t',
        topic,
        '-m',
        typeof body === 'string' ? body : JSON.stringify(body),
      ]);
      expect(r.status).toBe(0);
    };
    const coffee = () => agent!.status().outcomes!.campaigns[0];
    /** both households trigger; returns home-a's trigger signal id as upstream saw it */
    const triggerBoth = async (triggerIds: () => Record<string, string>): Promise<string> => {
      const a = new DeviceLink(agent!, 'scale-a');
      const b = new DeviceLink(agent!, 'scale-b');
      a.send(HELLO_SCALE('scale-a'), dispense(1));
      b.send(HELLO_SCALE('scale-b'), dispense(1));
      await checker.waitFor('both trigger signals upstream', () => Object.keys(triggerIds()).length === 2);
      return triggerIds()['home-a'];
    };

    it('generic: set/conversion converts the named trigger once; bad requests get an error and change nothing; aggregates on …/outcomes', async () => {
      checker = new MqttChecker(broker.port, ['edge/#']);
      await checker.start();
      agent = new Agent(household(t.dir, { url: broker.url }), {
        logger: silentLogger,
        drivers: [],
        api: false,
      });
      await agent.start();
      const ids = (): Record<string, string> =>
        Object.fromEntries(
          checker
            .json<{ signals: Array<{ id: string; profile: string; trigger: boolean }> }>(
              'edge/gw-out/signals',
            )
            .flatMap((m) => m.signals)
            .filter((s) => s.trigger)
            .map((s) => [s.profile, s.id]),
        );
      const id = await triggerBoth(ids);
      const responses = (): Array<{
        status: string;
        data: Record<string, unknown>;
        error?: string;
        transaction?: unknown;
      }> => checker.json('edge/gw-out/response/conversion');
      const at = Date.now();

      pub('edge/gw-out/set/conversion', { trigger: id, at, transaction: 'p1' });
      await checker.waitFor('conversion answer', () => responses().length === 1);
      expect(responses()[0]).toEqual({
        status: 'ok',
        data: { trigger: id, campaign: 'coffee', attributed: true, duplicate: false },
        transaction: 'p1',
      });
      expect(coffee()).toMatchObject({ triggers: 2, converted: 1, conversionRate: 0.5, purchases: 1 });

      // the broker redelivers (QoS 1) or upstream repeats itself: recognised, not counted twice
      pub('edge/gw-out/set/conversion', { trigger: id, at, transaction: 'p2' });
      // bad requests: each answered with an error, none changes anything
      pub('edge/gw-out/set/conversion', 'not json');
      pub('edge/gw-out/set/conversion', { at, transaction: 'p3' });
      pub('edge/gw-out/set/conversion', { trigger: 'no-such-trigger', transaction: 'p4' });
      pub('edge/gw-out/set/conversion', { trigger: id, at: 'tuesday', transaction: 'p5' });
      pub('edge/gw-out/set/conversion', { trigger: id, at: Date.now() + 3_600_000, transaction: 'p6' });
      pub('edge/gw-out/set/conversion', { trigger: id, price: 4.2, transaction: 'p7' });
      await checker.waitFor('all answers', () => responses().length === 8);
      const r = responses();
      expect(r[1]).toMatchObject({
        status: 'ok',
        data: { duplicate: true, attributed: false },
        transaction: 'p2',
      });
      expect(r[2]).toMatchObject({ status: 'error', error: 'payload is not JSON' });
      expect(r[3]).toMatchObject({
        status: 'error',
        error: '"trigger" must be the id of a trigger signal',
        transaction: 'p3',
      });
      expect(r[4]).toMatchObject({
        status: 'error',
        error: expect.stringMatching(/unknown trigger "no-such-trigger"/),
        transaction: 'p4',
      });
      expect(r[5]).toMatchObject({
        status: 'error',
        error: expect.stringMatching(/"at" must be epoch milliseconds/),
        transaction: 'p5',
      });
      expect(r[6]).toMatchObject({
        status: 'error',
        error: expect.stringMatching(/future/),
        transaction: 'p6',
      });
      expect(r[7]).toMatchObject({
        status: 'error',
        error: expect.stringMatching(/unknown field "price"/),
        transaction: 'p7',
      });
      expect(coffee()).toMatchObject({ triggers: 2, converted: 1, purchases: 1 });

      // the periodic aggregate: one per campaign, no household ids
      await checker.waitFor('outcomes aggregate with the conversion', () =>
        checker
          .json<{ outcomes: OutcomesSignal[] }>('edge/gw-out/outcomes')
          .some((m) => m.outcomes.some((o) => o.converted === 1)),
      );
      const last = checker.on('edge/gw-out/outcomes').at(-1)!;
      expect(last.payload).not.toMatch(/home-a|home-b|scale-a/);
      const doc = JSON.parse(last.payload) as { gateway: string; outcomes: OutcomesSignal[] };
      expect(doc.gateway).toBe('gw-out');
      expect(doc.outcomes[0]).toMatchObject({
        campaign: 'coffee',
        households: 2,
        triggers: 2,
        converted: 1,
        conversionRate: 0.5,
        purchases: 1,
      });
    }, 60_000);
  },
);

describe('upstream conversions, profile thingsboard, against the ThingsBoard double', () => {
  const f = thingsboardDoubleFixture('TOKEN');

  it("reportConversion by gateway RPC and by profile-device RPC; outcomes as the gateway's telemetry", async () => {
    const tb = f.tb;
    const agent = (f.agent = new Agent(household(f.dir, { url: tb.url, profile: 'thingsboard', accessToken: 'TOKEN' }), {
      logger: silentLogger,
      drivers: [],
      api: false,
    }));
    await agent.start();
    const coffee = () => agent.status().outcomes!.campaigns[0];
    /** the trigger signal's id per profile, as stored: `coffee.id` at the ts where `coffee.trigger` is true */
    const triggerId = (profile: string): string | undefined => {
      const at = tb.series(profile, 'coffee.trigger').find((p) => p.value === true)?.ts;
      return tb.series(profile, 'coffee.id').find((p) => p.ts === at)?.value as string | undefined;
    };
    await waitUntil('profiles connected', () => tb.devices.get('home-b')?.connected === true);
    new DeviceLink(agent, 'scale-a').send(HELLO_SCALE('scale-a'), dispense(1));
    new DeviceLink(agent, 'scale-b').send(HELLO_SCALE('scale-b'), dispense(1));
    await waitUntil('both trigger signals stored', () => triggerId('home-a') !== undefined && triggerId('home-b') !== undefined);
    const idA = triggerId('home-a')!;
    const idB = triggerId('home-b')!;

    await expect(tb.rpcToGateway('reportConversion', { trigger: idA, at: Date.now() })).resolves.toEqual({
      success: true,
      data: { trigger: idA, campaign: 'coffee', attributed: true, duplicate: false },
    });
    // device RPC on the profile device: the trigger must be one of that profile's
    await expect(tb.rpcToDevice('home-a', 'reportConversion', { trigger: idB })).resolves.toMatchObject({
      success: false,
      error: expect.stringMatching(/is not one of profile "home-a"/),
    });
    await expect(tb.rpcToDevice('home-b', 'reportConversion', { trigger: idB })).resolves.toMatchObject({ success: true });
    expect(coffee()).toMatchObject({ triggers: 2, converted: 2, conversionRate: 1, purchases: 2 });

    await waitUntil('outcomes telemetry', () =>
      tb.series('', 'outcomes').some((p) => (JSON.parse(p.value as string) as OutcomesSignal).converted === 2),
    );
    expect(tb.closesByServer).toBe(0);
  }, 60_000);
});
