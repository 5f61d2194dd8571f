import * as fs from 'node:fs';
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { FirmwareUpdates } from '../../agent/firmware-update/firmware-updates';
import { silentLogger } from '../../agent/logger';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE, reading, allAnswered } from '../support/device-link';
import { tempDir } from '../support/temp-dir';
import { testConfig } from '../support/test-config';

const T0 = Date.UTC(2026, 10, 1, 9);
const HOUR = 3600_000;
const choice = (seq: number, d: 'defer' | 'never' | 'allow', h?: number): DeviceFrame => ({
  type: 'firmware-choice',
  seq,
  body: h === undefined ? { d } : { d, h },
});

/**
 * 0x06 firmware-choice in the agent's pipeline (real codec, real files): the household's say from the device's
 * button goes to the household file the panel and `firmware defer` write, before the ack; it is a control
 * decision, not data, so it needs no consent (PROTOCOL.md §4).
 */
describe('firmware-choice frames from a device (the agent’s pipeline)', () => {
  let t: ReturnType<typeof tempDir>;
  let agent: Agent;
  const now = T0;
  beforeEach(async () => {
    t = tempDir();
    // no consent at all (default deny): a reading is dropped, the household's say is not
    const cfg = testConfig(t.dir, { devices: [{ id: 'scale-1', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' }] });
    agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false, clock: () => now });
    await agent.start();
  });
  afterEach(async () => {
    await agent.stop();
    t.cleanup();
  });
  const household = () => new FirmwareUpdates(t.dir).household();

  it('defer, never and allow reach the household file before the ack, without any consent', async () => {
    const l = new DeviceLink(agent, 'scale-1');
    l.send(HELLO_SCALE(), reading(1), choice(2, 'defer', 6));
    await allAnswered(agent);
    expect(agent.status().ingest).toMatchObject({ accepted: 0, droppedNoConsent: 1 });
    expect(l.acks()).toEqual([1, 2]);
    expect(household()).toEqual({ 'scale-1': { doNotUpdate: false, deferredUntil: T0 + 6 * HOUR } });

    l.send(choice(3, 'defer')); // no h: a day
    expect(l.acks()).toEqual([1, 2, 3]); // acked at once: the file is written (fsynced) before the ack
    expect(household()['scale-1'].deferredUntil).toBe(T0 + 24 * HOUR);

    l.send(choice(4, 'never'));
    expect(household()['scale-1']).toEqual({ doNotUpdate: true, deferredUntil: null });
    l.send(choice(5, 'allow'));
    expect(household()).toEqual({});
    expect(l.acks()).toEqual([1, 2, 3, 4, 5]);
    expect(agent.status().devices[0]).toMatchObject({ framesOk: 6, framesBad: 0 });
  });

  it('a retransmission is re-acked, not applied again (a later choice is not undone)', async () => {
    const l = new DeviceLink(agent, 'scale-1');
    l.send(HELLO_SCALE(), choice(7, 'never'), choice(8, 'allow'), choice(7, 'never'));
    expect(l.acks()).toEqual([7, 8, 7]);
    expect(household()).toEqual({});
    expect(agent.status().ingest.duplicates).toBe(1);
  });

  it('the capabilities of the last hello survive an agent restart (registry), and a hello without them clears them', async () => {
    const l = new DeviceLink(agent, 'scale-1');
    const hello = HELLO_SCALE();
    l.send({ ...hello, body: { ...(hello.body as object), cap: ['update'] } } as DeviceFrame);
    await allAnswered(agent);
    const restart = async (): Promise<readonly string[]> => {
      await agent.stop();
      agent = new Agent(testConfig(t.dir, { devices: [{ id: 'scale-1', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' }] }), {
        logger: silentLogger,
        drivers: [],
        api: false,
        clock: () => now,
      });
      await agent.start();
      return agent.pipeline.sessions.get('scale-1')!.caps;
    };
    expect(await restart()).toEqual(['update']);
    new DeviceLink(agent, 'scale-1').send(HELLO_SCALE()); // older firmware flashed back: no capability
    await allAnswered(agent);
    expect(agent.pipeline.sessions.get('scale-1')!.caps).toEqual([]);
    expect(await restart()).toEqual([]);
  });

  it('a choice that cannot be made durable is not acked (the device keeps it), and the retransmission is', async () => {
    const l = new DeviceLink(agent, 'scale-1');
    const dir = path.join(t.dir, 'firmware');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'not a directory'); // the household file cannot be written
    l.send(HELLO_SCALE(), choice(3, 'defer', 2));
    expect(l.acks()).toEqual([]);
    fs.rmSync(dir);
    l.send(choice(3, 'defer', 2));
    expect(l.acks()).toEqual([3]);
    expect(household()['scale-1'].deferredUntil).toBe(T0 + 2 * HOUR);
  });
});
