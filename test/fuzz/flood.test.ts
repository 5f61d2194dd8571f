import { Agent } from '../../agent/controller';
import { parseConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import { TokenBucket } from '../../agent/pipeline/token-bucket';
import { household } from '../sync/household';
import { DeviceLink, HELLO_SCALE, reading, settle } from '../support/device-link';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const count = (agent: Agent, device: string): number =>
  (agent.database.prepare('SELECT count(*) AS n FROM readings WHERE device = ?').get(device) as { n: number }).n;

describe('a flood from one device (per-device token bucket, ingest.maxFramesPerSecondPerDevice)', () => {
  it('the bucket holds a burst of one second and refills at the rate (fake clock)', () => {
    const b = new TokenBucket(10, 10);
    let ok = 0;
    for (let i = 0; i < 50; i++) if (b.take(1000)) ok++;
    expect(ok).toBe(10);
    expect(b.take(1050)).toBe(false); // half a token
    expect(b.take(1100)).toBe(true);
    expect(b.take(10_000)).toBe(true);
    let burst = 0;
    for (let i = 0; i < 50; i++) if (b.take(10_000)) burst++;
    expect(burst).toBe(9); // never more than the burst, however long the pause
  });

  it('protects the other devices; frames over the limit are not acked, and retransmitted they are all accepted', async () => {
    const t = tempDir();
    let now = 1_800_000_000_000;
    const cfg = { ...household(t.dir), ingest: { maxFramesPerSecondPerDevice: 100 } };
    const agent = new Agent(cfg, { logger: silentLogger, drivers: [], api: false, clock: () => now });
    try {
      await agent.start();
      const flooder = new DeviceLink(agent, 'scale-a');
      const quiet = new DeviceLink(agent, 'scale-b');
      flooder.send(HELLO_SCALE('scale-a'));
      quiet.send(HELLO_SCALE('scale-b'));
      // 2,000 frames in the same instant from one device, 10 from the other
      for (let i = 1; i <= 2000; i++) flooder.send(reading(i, 1, i));
      for (let i = 1; i <= 10; i++) quiet.send(reading(i, 1, i));
      await waitUntil('the first second acked', () => new Set(quiet.acks()).size >= 10 && new Set(flooder.acks()).size >= 100);
      expect(new Set(quiet.acks()).size).toBe(10); // the well-behaved device is untouched
      expect(new Set(flooder.acks()).size).toBe(100); // one second of burst
      const st = agent.status();
      expect(st.devices.find((d) => d.id === 'scale-a')?.rateLimited).toBe(1900);
      expect(st.devices.find((d) => d.id === 'scale-b')?.rateLimited).toBe(0);
      expect(st.ingest.rateLimited).toBe(1900);
      expect(count(agent, 'scale-a')).toBe(100);

      // The device retransmits what was not acked, one simulated second apart: 100 more are accepted each time.
      for (let round = 0; round < 19; round++) {
        now += 1000;
        const acked = new Set(flooder.acks());
        for (let i = 1; i <= 2000; i++) if (!acked.has(i)) flooder.send(reading(i, 1, i));
        // acks follow the commit's WAL fsync, off the event loop: wait for this second's 100, not a fixed time
        await waitUntil(`round ${round} acked`, () => new Set(flooder.acks()).size >= 100 * (round + 2));
      }
      expect(new Set(flooder.acks()).size).toBe(2000);
      expect(count(agent, 'scale-a')).toBe(2000); // every frame once, none lost, none twice
      expect(count(agent, 'scale-b')).toBe(10);
    } finally {
      await agent.stop();
      t.cleanup();
    }
  });

  it('hellos have their own budget (5, then one a second): a hello flood costs neither writes nor replies, and the other device is untouched', async () => {
    const t = tempDir();
    let now = 1_800_000_000_000;
    const agent = new Agent(household(t.dir), { logger: silentLogger, drivers: [], api: false, clock: () => now });
    let deviceEvents = 0;
    try {
      await agent.start();
      agent.bus.on('device', () => deviceEvents++);
      const flooder = new DeviceLink(agent, 'scale-a');
      const quiet = new DeviceLink(agent, 'scale-b');
      for (let i = 0; i < 20_000; i++) flooder.send(HELLO_SCALE('scale-a'));
      quiet.send(HELLO_SCALE('scale-b'));
      for (let i = 1; i <= 10; i++) quiet.send(reading(i, 1, i));
      await settle(100);
      const replies = (l: DeviceLink): number => l.sent.filter((f) => f.type === 'consent-state').length;
      expect(replies(flooder)).toBe(5);
      expect(replies(quiet)).toBe(1);
      expect(new Set(quiet.acks()).size).toBe(10);
      expect(deviceEvents).toBe(6);
      expect(agent.status().devices.find((d) => d.id === 'scale-a')?.rateLimited).toBe(20_000 - 5);
      now += 2000; // two seconds later: two more hellos are answered
      for (let i = 0; i < 100; i++) flooder.send(HELLO_SCALE('scale-a'));
      await settle(20);
      expect(replies(flooder)).toBe(7);
    } finally {
      await agent.stop();
      t.cleanup();
    }
  });

  it('a config file gets a limit by default (500 frames/s per device) and refuses a silly one', () => {
    const { config } = parseConfig('gateway: { id: gw-1, dataDir: ./data }\n', { sourceName: 'c.yaml', baseDir: '/tmp', env: {} });
    expect(config.ingest).toEqual({ maxFramesPerSecondPerDevice: 500 });
    expect(() => parseConfig('gateway: { id: gw-1 }\ningest: { maxFramesPerSecondPerDevice: 0 }\n', { sourceName: 'c.yaml', baseDir: '/tmp', env: {} })).toThrow(/ingest\.maxFramesPerSecondPerDevice/);
  });
});
