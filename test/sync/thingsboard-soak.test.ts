import { thingsboardSoak } from '../../scripts/bench/thingsboard-soak';

// The short version of the ThingsBoard target run (`npm run bench -- --only thingsboard` plays a whole hour):
// 20 simulated minutes at 600x, with two server restarts, RPC every 2 minutes, attribute updates every 5 and a
// deletion at 15.
describe('ThingsBoard soak, short: two campaigns per household against the double', () => {
  it('closes no connection and stores every campaign series whole', async () => {
    const r = await thingsboardSoak({ minutes: 20, compress: 600 });
    expect(r.rejections).toEqual([]);
    expect(r.closesByServer).toBe(0);
    expect(r.restarts).toBe(1);
    expect(r.connects).toBe(2);
    expect(r.attributeRequests).toBe(4); // both profiles, at both connects
    expect(r.rpcFailures).toEqual([]);
    expect(r.rpcs).toBe(20);
    expect(r.attributeUpdates).toBe(4);
    expect(r.attributeDeletions).toBe(1);
    for (const [name, s] of Object.entries(r.series)) expect({ name, ...s }).toEqual({ name, events: 120, stored: 120, complete: true });
    for (const d of Object.values(r.lastDownlink)) expect(d).toEqual({ status: 'ok', error: '' });
  }, 120_000);
});
