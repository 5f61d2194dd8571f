import * as fs from 'node:fs';
import * as path from 'node:path';
import mqtt from 'mqtt';
import type { StatusDocument } from '../../agent/api/status';
import { runCli, startCli } from '../support/run-cli';
import { freePort } from '../support/free-port';
import { tempDir } from '../support/temp-dir';

/** The demo as a new user runs it (`npm start` runs `edge-agent demo`), driven through the built CLI. */
describe('edge-agent demo (end to end)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('runs the simulated household through the real pipeline, serves status, publishes to MQTT, stops on Ctrl-C', async () => {
    const brokerPort = await freePort();
    const apiPort = await freePort();
    const api = `127.0.0.1:${apiPort}`;
    const demo = startCli(['demo', '--no-view', '--speed', '20', '--broker-port', String(brokerPort), '--api', api, '--data-dir', t.dir]);
    try {
      await demo.waitFor(/status: npx edge-agent status/);

      // Watch the MQTT side the way the demo tells users to.
      const client = mqtt.connect(`mqtt://127.0.0.1:${brokerPort}`);
      const batches: Array<{ gateway: string; signals: Array<Record<string, unknown>> }> = [];
      let state = '';
      client.on('message', (topic, payload) => {
        if (topic.endsWith('/signals')) batches.push(JSON.parse(payload.toString()) as (typeof batches)[number]);
        if (topic.endsWith('/state')) state = payload.toString();
      });
      await new Promise<void>((resolve) => client.on('connect', () => client.subscribe('edge/#', () => resolve())));

      // Wait until both profiles have an index and a trigger fired.
      let status: StatusDocument | null = null;
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const res = await runCli(['status', '--json', '--url', `http://${api}`]);
        expect(res.code).toBe(0);
        status = JSON.parse(res.stdout) as StatusDocument;
        if (new Set(status.engagement.map((e) => e.profile)).size === 2 && status.triggers.total > 0 && batches.length > 0) break;
      }
      expect(status).not.toBeNull();
      const s = status!;
      // DESIGN §9 status contract.
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['gateway', 'devices', 'ingest', 'engagement', 'outbox', 'upstream']));
      expect(s.gateway).toMatchObject({ id: 'demo-gw', version: expect.any(String), uptimeS: expect.any(Number) });
      expect(s.devices).toHaveLength(4);
      for (const d of s.devices) {
        expect(d).toEqual(expect.objectContaining({ id: expect.any(String), transport: 'sim', profile: expect.any(String), connected: true, framesOk: expect.any(Number), framesBad: 0 }));
        expect(d.type).toEqual(expect.any(String));
        expect(typeof d.lastSeen).toBe('string');
      }
      expect(s.ingest.accepted).toBeGreaterThan(0);
      expect(s.ingest).toEqual(expect.objectContaining({ droppedNoConsent: expect.any(Number), duplicates: expect.any(Number), framesBad: 0 }));
      expect(new Set(s.engagement.map((e) => e.profile))).toEqual(new Set(['home-a', 'home-b']));
      for (const e of s.engagement) expect(e).toEqual(expect.objectContaining({ index: expect.any(Number), f: expect.any(Number) }));
      expect(s.outbox).toEqual(expect.objectContaining({ pending: expect.any(Number), dropped: 0 }));
      expect(s.upstream).toEqual(expect.objectContaining({ connected: true }));
      expect(s.upstream.published).toBeGreaterThan(0);
      expect(state).toBe('online');
      // Upstream gets derived signals, never raw readings.
      const sig = batches[0].signals[0];
      expect(batches[0].gateway).toBe('demo-gw');
      expect(Object.keys(sig).sort()).toEqual(['campaign', 'channels', 'f', 'id', 'index', 'profile', 'r', 'trigger', 'ts', 'v']);

      // Human status output works against the same agent.
      const human = await runCli(['status', '--url', `http://${api}`]);
      expect(human.stdout).toMatch(/gateway demo-gw/);
      expect(human.stdout).toMatch(/home-a\s+coffee-reorder/);

      // Prometheus metrics.
      const metrics = await fetch(`http://${api}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/edge_agent_ingest_accepted_total \d+/);

      client.end(true);
      const stopAt = Date.now();
      demo.child.kill('SIGINT');
      expect(await demo.exit).toBe(0);
      expect(Date.now() - stopAt).toBeLessThan(1500);
      expect(fs.existsSync(path.join(t.dir, 'edge-agent.db'))).toBe(true);
    } finally {
      demo.child.kill('SIGKILL');
    }
  }, 60_000);
});
