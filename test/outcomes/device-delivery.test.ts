import { Agent } from '../../agent/controller';
import type { AgentConfig } from '../../agent/config';
import { createDrivers } from '../../agent/drivers';
import { silentLogger } from '../../agent/logger';
import type { DeviceFrame, GatewayFrame } from '../../firmware-bridge/protocol';
import { SerialSimDevice } from '../../drivers/sim';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';
import { waitUntil } from '../support/wait-until';
import { testConfig } from '../support/test-config';

function config(dataDir: string, port: string): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-notify',
    devices: [{ id: 'scale-1', transport: 'serial', port, profile: 'home-a' }],
    campaigns: [
      {
        id: 'coffee',
        qualify: { event: 'dispense' },
        value: 50,
        threshold: 30,
        channels: ['push', 'device'],
        notify: { text: 'Low on {campaign}? ({index})', led: 'amber', buzz: true },
      },
    ],
    storage: { maxBytes: 1 << 28, groupCommitMs: 2 }, // triggers show in status once durable: soon, not after a 1 s group
    consent: {
      grants: [
        { device: 'scale-1', category: 'usage' },
        { profile: 'home-a', campaign: 'coffee' },
        { profile: 'home-a', channel: 'push' },
        { profile: 'home-a', channel: 'device' },
      ],
    },
    // long enough that a trigger is still pending when status first shows it, even on a slow machine
    outcomes: { delivery: { ackTimeout: '1s', attempts: 3 } },
  });
}

const dispense = (seq: number): DeviceFrame => ({ type: 'event', seq, body: { e: 'dispense', ch: 2 } });
const notifies = (sim: SerialSimDevice): GatewayFrame[] =>
  sim.received.filter((f) => f.type === 'command' && f.body.c === 'notify');

(hasSocat ? describe : describe.skip)('channel device over a real PTY (socat): notify, acked or not', () => {
  let agent: Agent;
  let sim: SerialSimDevice;
  const delivery = () => agent.status().outcomes!.campaigns[0].delivery;
  const trigger = () => agent.status().outcomes!.recentTriggers[0];

  ptyPerTest({
    setUp: async ({ dir, pty }) => {
      const cfg = config(dir, pty.gateway);
      agent = new Agent(cfg, { logger: silentLogger, api: false, drivers: createDrivers(cfg, silentLogger) });
      await agent.start();
      sim = new SerialSimDevice(
        pty.device,
        { id: 'scale-1', model: 'kitchen-scale', fw: '2.1.0', kind: 'kitchen-scale' },
        { autoSample: false },
      );
    },
    tearDown: async () => {
      await sim.close();
      await agent.stop();
    },
  });

  it('the device that qualified gets the campaign notify; delivered only once it acks', async () => {
    await sim.open();
    await waitUntil('hello', () => agent.status().devices[0].fw === '2.1.0');
    sim.sendFrames([dispense(1)]);
    await waitUntil('trigger recorded', () => agent.status().outcomes!.recentTriggers.length === 1);
    await agent.outcomes.settled();
    await waitUntil('delivered', () => delivery().delivered === 1);
    // index = (100 / 1) × 1 × 0.5 = 50
    expect(sim.device.notifications).toEqual([
      { c: 'notify', text: 'Low on coffee? (50.0)', led: 'amber', buzz: true },
    ]);
    expect(notifies(sim)).toHaveLength(1);
    expect(delivery()).toEqual({ delivered: 1, pending: 0, failed: 0, none: 0 });
    expect(trigger()).toMatchObject({ device: 'scale-1', delivery: 'delivered', error: null });
    // the other channels went upstream in the trigger signal with the allowed channel list
    const sig = agent.database.prepare("SELECT payload FROM outbox WHERE kind = 'signal'").all() as Array<{
      payload: string;
    }>;
    expect(
      sig
        .map((r) => JSON.parse(r.payload) as { trigger: boolean; channels: string[] })
        .find((s) => s.trigger),
    ).toMatchObject({ channels: ['push', 'device'] });
  });

  it('a silent device: retried with the same seq, then reported failed, never delivered', async () => {
    await sim.open();
    await waitUntil('hello', () => agent.status().devices[0].fw === '2.1.0');
    // the firmware takes the command but never acks (a hung display task)
    const obey = sim.device.onGatewayFrame.bind(sim.device);
    sim.device.onGatewayFrame = (f) => (f.type === 'command' ? [] : obey(f));
    sim.sendFrames([dispense(1)]);
    await waitUntil('trigger recorded', () => agent.status().outcomes!.recentTriggers.length === 1);
    expect(trigger().delivery).toBe('pending');
    await agent.outcomes.settled();
    await waitUntil('failed', () => delivery().failed === 1);
    const sent = notifies(sim);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((f) => f.seq)).size).toBe(1);
    expect(delivery()).toEqual({ delivered: 0, pending: 0, failed: 1, none: 0 });
    expect(trigger()).toMatchObject({ delivery: 'failed', error: 'no ack from scale-1 after 3 tries' });
  });
});
