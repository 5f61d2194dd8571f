import { FaultCampaign, summarise, type Fault, type FaultRun } from '../../scripts/bench/firmware-fault-runs';
import { hasSocat } from '../support/pty-pair';

/**
 * A fixed slice of the fault campaign (`npm run bench -- --only faults --runs 100`, docs/firmware-updates.md §9)
 * through the running agent: a wedged ROM mid-flash, then an agent SIGKILLed mid-download right after that update
 * (it must still know what the device runs), then one SIGKILLed mid-flash. None may brick the device.
 */
(hasSocat ? describe : describe.skip)('fault-injected updates through the running agent (fixed budget)', () => {
  it('ends every run as its fault should, never with neither image', async () => {
    const campaign = new FaultCampaign();
    const runs: FaultRun[] = [];
    let seed = 11;
    const rnd = (): number => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    try {
      await campaign.start();
      const faults: Fault[] = ['rom-hang', 'kill-download', 'kill-flash'];
      for (const [i, fault] of faults.entries()) runs.push(await campaign.run(i + 1, fault, rnd));
    } finally {
      await campaign.stop();
    }
    const why = JSON.stringify(runs, null, 1);
    expect(runs.map((r) => [r.fault, r.outcome === r.expected, r.image !== 'neither'])).toEqual(
      runs.map((r) => [r.fault, true, true]),
    );
    expect(summarise(runs).find((r) => r.name === 'faults.bricked')?.value).toBe(0);
    expect(why).toContain('kill-download');
  }, 120_000);
});
