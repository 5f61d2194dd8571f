import fc from 'fast-check';
import type { SignalPayload } from '../../agent/pipeline/campaign-engagement';
import type { OutboxItem } from '../../agent/sync/sync-profile';
import { ThingsboardProfile } from '../../agent/sync/thingsboard-profile';

/** MQTT PUBLISH remaining length at QoS 1: topic (2 + length), packet id (2), payload. */
const remaining = (p: { topic: string; payload: string }): number => 4 + Buffer.byteLength(p.topic) + Buffer.byteLength(p.payload);

const signal = (id: number, profile: string, campaign: string, pad: number): OutboxItem => {
  const body: SignalPayload = { id: `sig-${id}-${'x'.repeat(pad)}`, profile, campaign, index: 12.5, r: 0.5, f: id, v: 50, trigger: false, channels: [], ts: 1000 + id };
  return { row: { id, signalId: body.id, kind: 'signal', profile, campaign, device: null, category: null, payload: JSON.stringify(body), bytes: 0, createdAt: body.ts }, body };
};
const receipt = (id: number, pad: number): OutboxItem => {
  const body = { receiptId: `gw:consent:${id}`, note: 'y'.repeat(pad) };
  return { row: { id, signalId: body.receiptId, kind: 'consent', profile: null, campaign: null, device: null, category: null, payload: JSON.stringify(body), bytes: 0, createdAt: 5000 }, body };
};

describe('thingsboard profile: every message fits the server limit (transport.mqtt.max_payload_size)', () => {
  it('keeps each PUBLISH (topic + packet id + payload) within the limit, every row once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ k: fc.constant('s' as const), profile: fc.constantFrom('home-a', 'a-household-profile-with-a-long-name-0123456789-0123456789-0123'), campaign: fc.constantFrom('coffee', 'tea'), pad: fc.nat(300) }),
            fc.record({ k: fc.constant('r' as const), pad: fc.nat(900) }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 600, max: 6000 }),
        (specs, max) => {
          const items = specs.map((s, i) => (s.k === 's' ? signal(i + 1, s.profile, s.campaign, s.pad) : receipt(i + 1, s.pad)));
          const pubs = new ThingsboardProfile(['home-a'], []).encode(items, max);
          for (const p of pubs) if (p.rowIds.length > 1) expect(remaining(p)).toBeLessThanOrEqual(max);
          expect(pubs.flatMap((p) => p.rowIds)).toEqual(items.map((it) => it.row.id));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('splits a batch whose payload alone would just fit but whose PUBLISH would not', () => {
    const items = [receipt(1, 400), receipt(2, 400)];
    const both = JSON.stringify(new ThingsboardProfile([], []).encode(items, 1e6)[0].payload);
    const max = (JSON.parse(both) as string).length + 1; // the payload of the two fits; with topic and packet id it does not
    const pubs = new ThingsboardProfile([], []).encode(items, max);
    expect(pubs.map((p) => p.rowIds)).toEqual([[1], [2]]);
  });
});
