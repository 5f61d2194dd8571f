import * as fc from 'fast-check';
import mqtt from 'mqtt';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import { household } from '../sync/household';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const SEED = 20261204;

interface Response {
  status: 'ok' | 'error';
  error?: string;
  transaction?: unknown;
}

/** Everything a downlink could change: the ledger, engagement (V values), campaigns received from upstream. */
function snapshot(agent: Agent): string {
  return JSON.stringify({
    ledger: agent.ledger.entries(),
    engagement: agent.status().engagement,
    campaigns: agent.database.prepare("SELECT value FROM meta WHERE key = 'campaigns.upstream'").get() ?? null,
  });
}

const nearlyValid = fc.oneof(
  fc.record({ device: fc.constantFrom('scale-a', 'nope', ''), category: fc.constantFrom('usage', 'health', 'x'), granted: fc.anything(), at: fc.anything() }, { requiredKeys: [] }),
  fc.record({ profile: fc.constantFrom('home-a', 'home-z'), campaign: fc.constantFrom('coffee', 'tea', 'nope'), granted: fc.oneof(fc.boolean(), fc.string()), at: fc.oneof(fc.constant('not a date'), fc.double(), fc.constant(-1)) }, { requiredKeys: [] }),
  fc.record({ profile: fc.constantFrom('home-a', 'home-b'), campaign: fc.constantFrom('tea', 'coffee'), v: fc.oneof(fc.double(), fc.constant(101), fc.constant(-1), fc.constant(Number.NaN), fc.string()) }),
  fc.record({ id: fc.string(), qualify: fc.anything(), value: fc.oneof(fc.anything(), fc.constant({ script: 'return 1' })), threshold: fc.anything(), channels: fc.anything() }, { requiredKeys: [] }),
);

(hasMosquitto ? describe : describe.skip)('downlink under hostile payloads (running agent, real Mosquitto)', () => {
  it('every payload on set/<what> gets a response; an error response changed nothing', async () => {
    const t = tempDir();
    const broker = new Mosquitto(await freePort());
    await broker.start();
    const agent = new Agent(household(t.dir, { url: broker.url }), { logger: silentLogger, drivers: [], api: false });
    let client: mqtt.MqttClient | null = null;
    const responses: Array<{ what: string; body: Response }> = [];
    try {
      await agent.start();
      await waitUntil('the agent online', () => agent.status().upstream.connected, 10_000);
      client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 100 });
      await client.subscribeAsync('edge/gw-sync/response/#', { qos: 1 });
      client.on('message', (topic, payload) => {
        responses.push({ what: topic.split('/').pop()!, body: JSON.parse(payload.toString()) as Response });
      });
      let errors = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('consent', 'campaign', 'value', 'conversion', 'nope', 'consent/extra'),
          fc.oneof(
            nearlyValid.map((b) => Buffer.from(JSON.stringify(b) ?? 'null')),
            fc.json().map((s) => Buffer.from(s)),
            fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
            fc.constant(Buffer.from(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)),
            fc.constant(Buffer.from(JSON.stringify({ device: 'scale-a', category: 'usage', granted: true, pad: 'x'.repeat(200_000) }))),
          ),
          async (what, payload) => {
            const before = snapshot(agent);
            const n = responses.length;
            await client!.publishAsync(`edge/gw-sync/set/${what}`, payload, { qos: 1 });
            // `set/consent/extra` is not matched by `set/+`: no response is the right answer there.
            if (what.includes('/')) {
              await new Promise((r) => setTimeout(r, 50));
              expect(responses.length).toBe(n);
              expect(snapshot(agent)).toBe(before);
              return;
            }
            await waitUntil(`a response to set/${what}`, () => responses.length > n, 5000);
            const r = responses[responses.length - 1];
            expect(r.what).toBe(what);
            if (r.body.status === 'error') {
              errors++;
              expect(typeof r.body.error).toBe('string');
              expect(snapshot(agent)).toBe(before);
            }
          },
        ),
        { seed: SEED, numRuns: 150, endOnFailure: true },
      );
      expect(errors).toBeGreaterThan(100); // the payloads really were hostile
      expect(agent.status().upstream.connected).toBe(true);
      expect(agent.ledger.verify().ok).toBe(true);
    } finally {
      client?.end(true);
      await agent.stop();
      await broker.dispose();
      t.cleanup();
    }
  }, 90_000);
});
