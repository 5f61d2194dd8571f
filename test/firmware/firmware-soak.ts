/**
 * Firmware-in-the-loop soak (not part of `npm test`; run with `npm run bench:firmware-soak`, default 10 minutes,
 * SOAK_MINUTES=N for another length): the kitchen_scale firmware in QEMU against the agent and its serial driver,
 * one dispense event per second (plus its reading), the cable pulled for a second every minute, identify and
 * notify every minute, one reboot (by the agent's `reboot` command) half-way. Counted at the source: every sample
 * the firmware took is stored exactly once, every dispense once, every command acked. One JSON line per minute,
 * then a summary line; the run fails if anything was lost or duplicated or a command went unacked.
 */
import * as path from 'node:path';
import { Agent } from '../../agent/controller';
import { createDrivers } from '../../agent/drivers';
import { silentLogger } from '../../agent/logger';
import { GRAMS_PER_COUNT, QemuBoard, buildFirmware, missingFirmwareTools } from '../support/qemu-board';
import { PtyPair } from '../support/pty-pair';
import { scaleGatewayConfig } from '../support/scale-gateway-config';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const TARE = 200_000;
const STEP_G = 6; // more than the firmware's 5 g: every sample after a step is a dispense event

const missing = missingFirmwareTools();
(missing ? describe.skip : describe)('firmware-in-the-loop soak', () => {
  it(`${MINUTES} minutes: nothing lost, nothing twice, every command acked`, async () => {
    const t = tempDir('edge-agent-fil-soak-');
    const board = new QemuBoard(buildFirmware(path.join(t.dir, 'build')), t.dir);
    let relay: PtyPair | null = null;
    let agent: Agent | null = null;
    let stepping: NodeJS.Timeout | null = null;
    try {
      let grams = 5000;
      await board.start({ loadRaw: TARE + Math.round(grams / GRAMS_PER_COUNT) });
      relay = new PtyPair(t.dir, 'ttyUSB0', board.pty);
      await relay.start();
      const cfg = scaleGatewayConfig(path.join(t.dir, 'data'), relay.gateway, 'gw-soak');
      agent = new Agent(cfg, { logger: silentLogger, api: false, drivers: createDrivers(cfg, silentLogger) });
      await agent.start();
      const a = agent;
      const dev = () => a.status().devices.find((d) => d.id === 'scale-1')!;
      const count = (sql: string): number => (a.database.prepare(sql).get() as { n: number }).n;
      const readings = (): number => count('SELECT count(*) AS n FROM readings');
      const events = (): number => count("SELECT count(*) AS n FROM events WHERE name = 'dispense'");
      const samples = (): number => board.conversions - board.boots; // each boot's first conversion is the tare
      await waitUntil('the agent holds the port', () => dev().connected);
      // After every conversion (the boot's tare too) the weight drops by STEP_G: the next sample sees it and
      // reports a dispense — also the first of a boot, whose tare was taken before the drop.
      let seen = board.conversions;
      let refills = 0;
      stepping = setInterval(() => {
        const c = board.conversions;
        if (c !== seen) {
          seen = c;
          grams -= STEP_G;
          if (grams < 100) {
            grams = 5000; // a refill: a rise is no dispense; the steps after it are again
            refills++;
          }
          board.loadRaw = TARE + Math.round(grams / GRAMS_PER_COUNT);
        }
      }, 20);
      await board.run();
      await waitUntil('hello', () => dev().fw === '1.2.0', 15_000);


      let commands = 0;
      let acked = 0;
      let drops = 0;
      let reboots = 0;
      let lastIdBeforeReboot = 0;
      const command = async (c: 'identify' | 'notify' | 'pause' | 'resume' | 'reboot', args?: Record<string, unknown>): Promise<void> => {
        commands++;
        const r = await a.commander.send('scale-1', c, args);
        if (r.acked) acked++;
      };
      const drained = (what: string): Promise<void> =>
        waitUntil(`${what}: every sample stored`, () => readings() === samples(), 30_000, () => ` (stored ${readings()}, sampled ${samples()})`);
      const started = Date.now();
      for (let minute = 1; minute <= MINUTES; minute++) {
        const minuteEnds = started + minute * 60_000;
        await command('identify');
        await command('notify', { text: `minute ${minute}`, led: 'green' });
        if (minute === Math.ceil(MINUTES / 2)) {
          // the reboot: paused and drained first, so no sample is in the firmware's RAM queue when it restarts
          await command('pause');
          await drained('before the reboot');
          lastIdBeforeReboot = count('SELECT coalesce(max(id), 0) AS n FROM readings');
          const boots = board.boots;
          const before = samples();
          await command('reboot');
          await waitUntil('rebooted', () => board.boots === boots + 1, 15_000);
          reboots++;
          await waitUntil('sampling after the reboot', () => samples() > before, 15_000);
        }
        // the cable is pulled for a second somewhere in the middle of the minute
        await new Promise((r) => setTimeout(r, Math.max(0, minuteEnds - 30_000 - Date.now())));
        await relay.stop();
        await new Promise((r) => setTimeout(r, 1000));
        await relay.start();
        drops++;
        await new Promise((r) => setTimeout(r, Math.max(0, minuteEnds - Date.now())));
        const s = agent.status();
        process.stdout.write(
          JSON.stringify({
            minute,
            samples: samples(),
            readings: readings(),
            events: events(),
            commands,
            acked,
            drops,
            reboots,
            duplicatesDropped: s.ingest.duplicates,
            framesBad: s.ingest.framesBad,
            stackHighWater: board.stackHighWater(),
          }) + '\n',
        );
      }
      clearInterval(stepping);
      stepping = null;
      await drained('at the end');
      // device time restarts at a reboot: rows are compared within each boot
      const dupRows =
        count(`SELECT count(*) - count(DISTINCT device_t) AS n FROM readings WHERE id <= ${lastIdBeforeReboot}`) +
        count(`SELECT count(*) - count(DISTINCT device_t) AS n FROM readings WHERE id > ${lastIdBeforeReboot}`);
      const summary = {
        minutes: MINUTES,
        samples: samples(),
        readingsStored: readings(),
        dispenseEvents: events(),
        // every sample follows a drop, except those after a refill (a rise)
        dispenseExpected: samples() - refills,
        lost: samples() - readings(),
        commands,
        acked,
        drops,
        reboots,
        duplicatesDropped: agent.status().ingest.duplicates,
        framesBad: agent.status().ingest.framesBad,
        dupRows,
        stackHighWater: board.stackHighWater(),
      };
      process.stdout.write(JSON.stringify({ summary }) + '\n');
      expect(summary.lost).toBe(0);
      expect(summary.readingsStored).toBe(summary.samples);
      expect(summary.dispenseEvents).toBe(summary.dispenseExpected);
      expect(dupRows).toBe(0);
      expect(acked).toBe(commands);
      expect(reboots).toBe(1);
      expect(summary.framesBad).toBe(0);
    } finally {
      if (stepping) clearInterval(stepping);
      await agent?.stop();
      await relay?.stop();
      await board.stop();
      t.cleanup();
    }
  }, (MINUTES + 5) * 60_000);
});
