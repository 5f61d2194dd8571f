import { runFuzzCampaign } from '../../scripts/fuzz/fuzz-campaign';

/**
 * The fuzz campaign of issue #21 with a small fixed budget (`npm run fuzz` runs the long one). The seed is
 * printed: `npm run fuzz -- --seed <seed> --downlink <n> --api <n>` replays a failure.
 */
const SEED = Number(process.env.EDGE_FUZZ_SEED ?? 2121);

describe('fuzz campaign: device frames, downlink (both profiles, direct and through Mosquitto) and API/panel (concurrent) against real agents', () => {
  it('no crash, no state change from rejected messages or requests without credentials, no file touched outside the data directory', async () => {
    const budget = { frames: 3000, downlink: 4000, brokerDownlink: 2000, api: 1000, concurrency: 16, seed: SEED };
    console.log(
      `fuzz campaign seed ${SEED} (replay: npm run fuzz -- --seed ${SEED} --frames ${budget.frames} --downlink ${budget.downlink} --broker-downlink ${budget.brokerDownlink} --api ${budget.api})`,
    );
    const r = await runFuzzCampaign(budget);
    expect(r.crashDetails).toEqual([]);
    expect(r.frames.crashes).toBe(0);
    expect(r.frames.stateChangesOnReject).toBe(0);
    expect(r.downlink.crashes).toBe(0);
    expect(r.downlink.lost).toBe(0);
    expect(r.downlink.stateChangesOnReject).toBe(0);
    expect(r.api.crashes).toBe(0);
    expect(r.api.stateChangesWithoutCredentials).toBe(0);
    expect(r.invariantViolations).toEqual([]);
    expect(r.fileReadsOutsideDataDir).toEqual([]);
    // the inputs reached both sides of every check
    expect(r.frames.acked).toBeGreaterThan(50);
    expect(r.frames.badFrames).toBeGreaterThan(50);
    expect(r.frames.hellosAnswered).toBeGreaterThan(0);
    expect(r.downlink.messages).toBeGreaterThanOrEqual(6000); // and the ThingsBoard agent's own replies, heard back
    expect(r.downlink.viaBroker).toBe(2000);
    expect(r.downlink.accepted).toBeGreaterThan(20);
    expect(r.downlink.rejected).toBeGreaterThan(1000);
    expect(r.api.requests).toBe(1000);
  }, 120_000);
});
