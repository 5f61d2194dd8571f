import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { MqttChecker, hasMosquittoClients as hasClients } from '../support/mqtt-checker';
import { runCli, startCli } from '../support/run-cli';
import { TcpProxy } from '../support/tcp-proxy';
import { tempDir } from '../support/temp-dir';


interface Signal {
  id: string;
  profile: string;
  f: number;
}

(hasMosquitto && hasClients ? describe : describe.skip)('edge-agent run killed with SIGKILL while offline and mid-batch (CLI, real Mosquitto)', () => {
  it('every signal queued before the kills arrives; a re-send is only ever the same id with the same content', async () => {
    const t = tempDir();
    const broker = new Mosquitto(await freePort(), { persistence: true });
    await broker.start();
    const checker = new MqttChecker(broker.port, ['edge/#']);
    await checker.start();
    const proxy = new TcpProxy(await freePort(), broker.port); // closed: the uplink is down at first
    const apiPort = await freePort();
    const cfgFile = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfgFile,
      `gateway: { id: gw-crash, dataDir: ${path.join(t.dir, 'data')} }
api: { listen: "127.0.0.1:${apiPort}" }
upstream: { url: "${proxy.url}", batch: { maxRows: 20, delayMs: 0 }, reconnect: { minMs: 50, maxMs: 200 } }
devices:
  - { id: scale-a, transport: sim, model: kitchen-scale, ratePerMin: 12000, profile: home-a }
campaigns:
  - { id: coffee, qualify: { event: dispense }, value: 50, threshold: 1000000, channels: [push] }
engagement: { signalIntervalS: 0 }
consent:
  grants: [{ device: scale-a, category: usage }, { profile: home-a, campaign: coffee }]
`,
    );
    const queuedIds = (): string[] => {
      const db = new Database(path.join(t.dir, 'data', 'edge-agent.db'), { readonly: true });
      try {
        return (db.prepare("SELECT signal_id AS sid FROM outbox WHERE kind = 'signal' ORDER BY id").all() as Array<{ sid: string }>).map((r) => r.sid);
      } finally {
        db.close();
      }
    };
    const received = (): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      for (const b of checker.json<{ signals: Signal[] }>('edge/gw-crash/signals')) {
        for (const s of b.signals) m.set(s.id, [...(m.get(s.id) ?? []), JSON.stringify(s)]);
      }
      return m;
    };
    try {
      // 1. offline for a while, then killed
      let agent = startCli(['run', '--config', cfgFile]);
      await agent.waitFor(/ready/);
      await new Promise((r) => setTimeout(r, 2500));
      agent.child.kill('SIGKILL');
      await agent.exit;
      const offline = queuedIds();
      expect(offline.length).toBeGreaterThan(100);

      // 2. the uplink returns; killed again while the backlog drains
      await proxy.open();
      agent = startCli(['run', '--config', cfgFile]);
      await agent.waitFor(/ready/);
      await checker.waitFor('drain started', () => received().size > 0, 20_000);
      agent.child.kill('SIGKILL');
      await agent.exit;
      const got = received().size;
      expect(got).toBeGreaterThan(0);

      // 3. restarted: `sync --now` drains everything
      agent = startCli(['run', '--config', cfgFile]);
      await agent.waitFor(/ready/);
      const flush = await runCli(['sync', '--now', '--config', cfgFile, '--json']);
      expect(flush.code).toBe(0);
      expect(JSON.parse(flush.stdout)).toMatchObject({ flush: { drained: true } });
      const human = await runCli(['sync', '--config', cfgFile]);
      expect(human.stdout).toMatch(/upstream mqtt:\/\/127\.0\.0\.1:\d+ \(profile generic\): connected/);
      agent.child.kill('SIGTERM');
      await agent.exit;

      const all = received();
      for (const id of offline) expect(all.has(id)).toBe(true); // nothing queued before the kills is lost
      for (const [, copies] of all) expect(new Set(copies).size).toBe(1); // re-sends are the same signal
      // f only grows per key in first-arrival order: the backlog went out in order
      const firstArrival: number[] = [];
      const seen = new Set<string>();
      for (const b of checker.json<{ signals: Signal[] }>('edge/gw-crash/signals')) {
        for (const s of b.signals) {
          if (seen.has(s.id)) continue;
          seen.add(s.id);
          firstArrival.push(s.f);
        }
      }
      expect(firstArrival).toEqual([...firstArrival].sort((x, y) => x - y));
    } finally {
      await checker.stop();
      await proxy.close();
      await broker.dispose();
      t.cleanup();
    }
  }, 90_000);
});
