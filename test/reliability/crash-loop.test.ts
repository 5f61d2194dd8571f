import { hasMosquitto } from '../support/mosquitto';
import { hasMosquittoClients } from '../support/mqtt-checker';
import { hasSocat } from '../support/pty-pair';
import { runCrashLoop } from './crash-loop-harness';

// Reproduce a failure with CRASH_LOOP_SEED=<the printed seed>.
const seed = Number(process.env.CRASH_LOOP_SEED ?? Date.now() % 1_000_000);
const kills = Number(process.env.CRASH_LOOP_KILLS ?? 100);

(hasMosquitto && hasMosquittoClients && hasSocat ? describe : describe.skip)('crash loop: edge-agent run SIGKILLed at random moments (CLI, PTYs, Mosquitto)', () => {
  it(`loses nothing acked, re-sends only identical signals, never sends anything withdrawn (seed ${seed}, ${kills} kills)`, async () => {
    process.stdout.write(`crash loop seed ${seed} (reproduce: CRASH_LOOP_SEED=${seed})\n`);
    const report = await runCrashLoop({
      seed,
      kills,
      devices: 4,
      ratePerMin: 3000, // 50 events/s per device, 200/s in all
      minRunMs: 100,
      maxRunMs: 800,
      uplinkDown: { from: Math.floor(kills * 0.3), to: Math.floor(kills * 0.6) },
      withdrawCampaignAt: Math.floor(kills * 0.5),
      withdrawDeviceAt: Math.floor(kills * 0.7),
      log: (l) => process.stdout.write(`${l}\n`),
    });
    process.stdout.write(`crash loop report ${JSON.stringify({ ...report, ackedMissing: report.ackedMissing.slice(0, 10) })}\n`);
    expect(report.ackedMissing).toEqual([]);
    // Nothing counted twice: the duplicate window is committed with each frame, so it survives the kills.
    expect(report.storedBeyondSent).toBe(0);
    expect(report.resentDifferentContent).toEqual([]);
    expect(report.withdrawnScopeArrivedAfter).toEqual([]);
    expect(report.ledgerVerify.code).toBe(0);
    // The run must have exercised what it claims to (otherwise the checks above prove nothing).
    expect(report.framesAcked).toBeGreaterThan(kills * 20);
    expect(report.campaignWithdrawalPurged).toBeGreaterThan(0);
    expect(report.signalIdsUpstream).toBeGreaterThan(100);
  }, 300_000);
});
