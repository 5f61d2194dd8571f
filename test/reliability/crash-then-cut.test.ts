import { seededRandom } from '../../drivers/sim/sim-driver';
import { PtyPair, hasSocat } from '../support/pty-pair';
import { startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';
import { RecordingDevice, ackedButMissing, storedFrames } from './crash-loop-harness';
import { buildShim, hasGcc, integrity, restoreDurableImages, serialHousehold } from './powercut/powercut-model';

/*
 * Crashes and power cuts combined (docs/guarantees.md, "Power loss"), on the real CLI under the LD_PRELOAD model
 * with a slow fsync: the agent is SIGKILLed (a crash: the page cache outlives it, the shim carries what was not
 * yet synced over to the next process), restarted, and the power is cut
 *  - right after the restarted agent's first ack of a frame the devices sent before the crash (a retransmission:
 *    the duplicate window restored from `device_seqs` answers it). The devices stop sampling at the crash, so the
 *    restarted agent hears retransmissions first, as from devices that send once a minute; or
 *  - at a random moment from spawn on: during start-up, right after ready, or while it runs.
 * After every cut each frame a device saw acked must be stored. No campaign counts these devices' events: a
 * campaign's engagement write at start-up would fsync the WAL early and hide a loss by chance.
 */
const seed = Number(process.env.POWER_LOSS_SEED ?? Date.now() % 1_000_000);
const FSYNC_DELAY_MS = 250;

(hasGcc && hasSocat ? describe : describe.skip)('edge-agent run through a crash followed by a power cut (slow fsync)', () => {
  const t = tempDir('edge-crashcut-');
  const ptys: PtyPair[] = [];
  const devices: RecordingDevice[] = [];
  afterAll(async () => {
    for (const d of devices) await d.close();
    for (const p of ptys) await p.stop();
    t.cleanup();
  });

  it(`after each crash, restart and cut, every frame acked before the cut is stored (seed ${seed})`, async () => {
    process.stdout.write(`crash-then-cut seed ${seed} (reproduce: POWER_LOSS_SEED=${seed})\n`);
    const rng = seededRandom(seed);
    const shim = buildShim(t.dir);
    const ids = ['scale-1', 'scale-2'];
    const { cfgFile, dbFile } = await serialHousehold(t.dir, 'gw-crashcut', ids, ptys, false);
    const env = { LD_PRELOAD: shim, POWERCUT_FSYNC_DELAY_MS: String(FSYNC_DELAY_MS) };
    const ackTimer = setInterval(() => devices.forEach((d) => d.noteAcks()), 2);
    const acked = (): number => devices.reduce((n, d) => n + [...d.sent.values()].filter((s) => s.ackedAt !== null).length, 0);
    let retransmissionCuts = 0;
    try {
      for (let cycle = 0; cycle < 6; cycle++) {
        // Run, then crash.
        let agent = startCli(['run', '--config', cfgFile], { env });
        await agent.waitFor(/ready/, 30_000);
        if (devices.length === 0) {
          for (let i = 0; i < ids.length; i++) {
            const d = new RecordingDevice(ptys[i].device, { id: ids[i], model: 'kitchen-scale', fw: '1.4.2', kind: 'kitchen-scale', ratePerMin: 1200 }, { seed: seed + i, tickMs: 20 });
            await d.open();
            devices.push(d);
          }
        }
        const before = acked();
        await waitUntil(`cycle ${cycle}: acks before the crash`, () => acked() > before + 5, 30_000);
        await new Promise((r) => setTimeout(r, 100 + rng() * 700));
        const afterRetransmission = cycle % 3 !== 2;
        if (afterRetransmission) devices.forEach((d) => d.pauseSampling());
        agent.child.kill('SIGKILL');
        await agent.exit;
        devices.forEach((d) => d.noteAcks());
        const unackedAtCrash = devices.map((d) => new Set([...d.sent].filter(([, s]) => s.ackedAt === null).map(([seq]) => seq)));

        // Restart on the crashed agent's files (no cut yet), then cut.
        agent = startCli(['run', '--config', cfgFile], { env });
        if (afterRetransmission) {
          const retransmissionAcked = (): boolean => devices.some((d, i) => [...unackedAtCrash[i]].some((seq) => d.sent.get(seq)?.ackedAt !== null));
          // Polled every 2 ms: the cut must land before the WAL fsync the restarted agent starts for new frames.
          const deadline = Date.now() + 30_000;
          while (!retransmissionAcked() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
          if (retransmissionAcked()) retransmissionCuts++;
        } else {
          await new Promise((r) => setTimeout(r, rng() * 2500));
        }
        const cutAt = Date.now();
        agent.child.kill('SIGKILL');
        await agent.exit;
        devices.forEach((d) => d.noteAcks());
        devices.forEach((d) => d.resumeSampling());

        restoreDurableImages(dbFile);
        expect({ cycle, integrity: integrity(dbFile) }).toEqual({ cycle, integrity: 'ok' });
        const { stored, rows } = storedFrames(dbFile);
        const missing = ackedButMissing(devices, stored, cutAt);
        process.stdout.write(`cycle ${cycle} (${afterRetransmission ? 'cut after a retransmission was acked' : 'cut at a random moment'}): rows ${rows}, acked-but-missing ${missing.length}\n`);
        expect({ cycle, missing: missing.slice(0, 5) }).toEqual({ cycle, missing: [] });
      }
      // The cuts really followed acks of retransmissions (the window the duplicate path answers from).
      expect(retransmissionCuts).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(ackTimer);
    }
  }, 240_000);
});
