import * as fs from 'node:fs';
import * as path from 'node:path';
import { databasePath, openDatabase } from '../../agent/store/database';
import { IngestStore } from '../../agent/store/ingest-store';
import { Esp32RomSimulator, OP, type Esp32RomSimOptions } from '../support/esp-rom-sim';
import { APP_ADDRESS, kitchenScaleImage } from '../support/firmware-packages';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';
import { runCli, startCli } from '../support/run-cli';
import { waitUntil } from '../support/wait-until';

const OLD = kitchenScaleImage('2.4.0', 120 * 1024, 21);
const NEW = kitchenScaleImage('2.5.0', 160 * 1024, 22);
const APP = APP_ADDRESS;
const NVS = Buffer.from('nvs: paired=home-a consent=usage');

interface Status {
  package: { title: string; version: string } | null;
  state: string | null;
  error: string | null;
  devices: Array<{
    id: string;
    state: string;
    step: string | null;
    fw: string | null;
    reason: string | null;
    doNotUpdate: boolean;
  }>;
}

(hasSocat ? describe : describe.skip)(
  'edge-agent firmware: rollout through the real flasher to the ROM-bootloader simulator (built CLI)',
  () => {
    let sim: Esp32RomSimulator;
    let cfg: string;
    let dataDir: string;

    const t = ptyPerTest({
      prefix: 'edge-fw-cli-',
      setUp: ({ dir }) => {
        dataDir = path.join(dir, 'data');
        cfg = path.join(dir, 'config.yaml');
        fs.writeFileSync(cfg, `gateway: { id: gw-fw, dataDir: ${dataDir} }\n`);
        // the device as the registry knows it from an earlier flash: kitchen-scale 2.4.0
        fs.mkdirSync(dataDir, { recursive: true });
        const db = openDatabase(databasePath(dataDir));
        new IngestStore(db).recordFlash({
          id: 'scale-7',
          model: 'kitchen-scale',
          fw: '2.4.0',
          channels: [{ n: 1, k: 'weight', c: 'usage' }],
          profile: 'home-a',
          mac: null,
          at: Date.now(),
        });
        db.close();
        fs.writeFileSync(path.join(dir, 'new.bin'), NEW);
      },
      tearDown: () => sim?.detach(),
    });

    async function device(opts: Esp32RomSimOptions = {}): Promise<void> {
      sim = new Esp32RomSimulator({ autoReset: true, ...opts });
      sim.flash.set(OLD, APP);
      sim.flash.set(NVS, 0x9000);
      await sim.attach(t.pty.device);
    }
    const holds = (image: Buffer): boolean =>
      Buffer.compare(Buffer.from(sim.flash.subarray(APP, APP + image.length)), image) === 0;
    const status = async (): Promise<Status> =>
      JSON.parse((await runCli(['firmware', 'status', '--config', cfg, '--json'])).stdout) as Status;
    const update = (extra: string[] = []): string[] => [
      'firmware',
      'update',
      '--device',
      'scale-7',
      '--port',
      t.pty.gateway,
      '--config',
      cfg,
      '--hello-timeout',
      '4',
      ...extra,
    ];

    it('imports a package, backs up the running app by reading it back, flashes, and takes the hello with the new version', async () => {
      await device();
      const imp = await runCli([
        'firmware',
        'import',
        '--package',
        path.join(t.dir, 'new.bin'),
        '--config',
        cfg,
      ]);
      expect(imp.stdout).toMatch(/^package kitchen-scale 2\.5\.0 \(\d+ bytes\) verified/);
      const res = await runCli([...update(), '--json'], { timeoutMs: 60_000 });
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual({
        device: 'scale-7',
        state: 'UPDATED',
        fw: '2.5.0',
        fromVersion: '2.4.0',
        reason: null,
      });
      expect(holds(NEW)).toBe(true);
      expect(Buffer.from(sim.flash.subarray(0x9000, 0x9000 + NVS.length))).toEqual(NVS); // pairing and consent on the device survive
      expect(sim.ops).toContain(0xd2); // READ_FLASH: the backup came from the device itself
      const s = await status();
      expect(s.state).toBe('UPDATED');
      expect(s.devices).toEqual([expect.objectContaining({ id: 'scale-7', state: 'UPDATED', fw: '2.5.0' })]);
      const db = openDatabase(databasePath(dataDir));
      expect(new IngestStore(db).flashRecord('scale-7')).toMatchObject({ fw: '2.5.0', profile: 'home-a' });
      db.close();
    }, 90_000);

    it('a device that answers one block after esptool-js’s 3 s limit is updated on the first try, every block taken once', async () => {
      // the stub takes a block as it arrives: a block sent again because its answer was late would be taken twice
      await device({ answerDelayMs: (op, nth) => (op === OP.FLASH_DEFL_DATA && nth === 2 ? 4500 : 0) });
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      const res = await runCli([...update(), '--json'], { timeoutMs: 60_000 });
      expect({ code: res.code, out: JSON.parse(res.stdout) as unknown }).toEqual({
        code: 0,
        out: { device: 'scale-7', state: 'UPDATED', fw: '2.5.0', fromVersion: '2.4.0', reason: null },
      });
      expect(sim.ops.filter((op) => op === OP.FLASH_DEFL_DATA).length).toBeGreaterThan(3);
      expect({ tries: sim.ops.filter((op) => op === OP.FLASH_DEFL_BEGIN).length, twice: sim.blocksTakenTwice }).toEqual(
        { tries: 1, twice: 0 },
      );
      expect(holds(NEW)).toBe(true);
    }, 90_000);

    it('a new image that never says hello is rolled back: FAILED with the reason, old image running', async () => {
      await device({ silentVersions: ['2.5.0'] });
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      const res = await runCli(update(), { timeoutMs: 60_000 });
      expect(res.code).toBe(1);
      expect(res.stdout.trim()).toBe(
        'scale-7: FAILED (firmware 2.4.0) — no hello with 2.5.0 expected within 4 s; rolled back to 2.4.0',
      );
      expect(holds(OLD)).toBe(true);
      expect(sim.boots).toBe(2);
      const s = await status();
      expect(s.state).toBe('FAILED');
      expect(s.error).toBe('scale-7: no hello with 2.5.0 expected within 4 s; rolled back to 2.4.0');
      // retry puts it back in the queue
      const retry = await runCli(['firmware', 'retry', '--device', 'scale-7', '--config', cfg]);
      expect(retry.code).toBe(0);
      expect((await status()).devices[0].state).toBe('PENDING');
    }, 90_000);

    it('agent SIGKILLed mid-flash: the next run rolls the half-written device back from the backup, then updates it', async () => {
      let killAt: number | null = 2;
      let run: ReturnType<typeof startCli> | null = null;
      await device({
        onFlashBlock: (seq) => {
          if (seq === killAt && run) {
            killAt = null;
            run.child.kill('SIGKILL');
          }
        },
      });
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      run = startCli(update());
      await run.exit;
      expect(killAt).toBeNull();
      await waitUntil('the flash to stop changing', () => !holds(OLD) && !holds(NEW), 5000);
      const mid = await status();
      expect(mid.devices[0]).toMatchObject({ state: 'UPDATING', step: 'flashing' });

      const res = await runCli(update(), { timeoutMs: 90_000 });
      expect(res.stderr).toMatch(/UPDATING\/rollback/);
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toBe('scale-7: UPDATED (firmware 2.5.0)');
      expect(holds(NEW)).toBe(true);
      expect((await status()).devices[0]).toMatchObject({ state: 'UPDATED', step: null });
    }, 120_000);

    it('a device that wedges mid-flash (answers nothing, reads nothing) is abandoned after the stall time and tried again after esptool\'s reset: UPDATED', async () => {
      let hangAt: number | null = 2;
      await device({
        onFlashBlock: (seq) => {
          if (seq === hangAt) {
            hangAt = null;
            sim.hang(3000); // longer than the stall time: only the stall watch ends the try
          }
        },
      });
      fs.appendFileSync(cfg, 'firmware: { stallS: 2 }\n');
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      const res = await runCli(update(), { timeoutMs: 90_000 });
      expect(res.stdout.trim()).toBe('scale-7: UPDATED (firmware 2.5.0)');
      expect(res.code).toBe(0);
      expect(sim.hangs).toBe(1);
      expect(holds(NEW)).toBe(true);
    }, 90_000);

    it('a device that stops answering during the backup read-back is tried again after the stall time, not after esptool-js\'s 100 s', async () => {
      await device({ onCommand: (op) => op === OP.READ_FLASH && sim.hangs === 0 && sim.hang() });
      fs.appendFileSync(cfg, 'firmware: { stallS: 2 }\n');
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      const started = Date.now();
      const res = await runCli(update(), { timeoutMs: 90_000 });
      expect(res.stdout.trim()).toBe('scale-7: UPDATED (firmware 2.5.0)');
      expect(sim.hangs).toBe(1);
      expect(Date.now() - started).toBeLessThan(60_000);
    }, 90_000);

    it('a device that wedges on every try of the new image is rolled back within bounded time: FAILED with the reason, old image running', async () => {
      await device({
        onFlashBlock: (seq) => {
          if (seq === 2 && sim.hangs < 3) sim.hang(3000); // the three tries of 2.5.0; the rollback goes through
        },
      });
      fs.appendFileSync(cfg, 'firmware: { stallS: 2 }\n');
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      const started = Date.now();
      const res = await runCli(update(), { timeoutMs: 90_000 });
      expect(res.code).toBe(1);
      expect(res.stdout.trim()).toMatch(
        /^scale-7: FAILED \(firmware 2\.4\.0\) — flashing 2\.5\.0 failed: the device stopped answering \(nothing from it for 2 s\) while writing on .*: the flash was abandoned and the port closed \(the flash is half-written.*\) \(3 tries\); rolled back to 2\.4\.0$/,
      );
      expect(sim.hangs).toBe(3);
      expect(holds(OLD)).toBe(true);
      expect(Date.now() - started).toBeLessThan(60_000);
    }, 90_000);

    it('a device the household marked "do not update" is skipped, with the reason', async () => {
      await runCli(['firmware', 'import', '--package', path.join(t.dir, 'new.bin'), '--config', cfg]);
      const never = await runCli(['firmware', 'defer', '--device', 'scale-7', '--never', '--config', cfg]);
      expect(never.stdout.trim()).toBe(
        'scale-7: will not be updated (reported upstream as skipped by the household)',
      );
      const res = await runCli(update());
      expect(res.code).toBe(1);
      expect(res.stdout.trim()).toBe('scale-7: SKIPPED (firmware 2.4.0) — household chose do not update');
      const s = await status();
      expect(s.devices[0]).toMatchObject({ state: 'SKIPPED', doNotUpdate: true });
      expect(s.state).toBe('UPDATED');
      const human = await runCli(['firmware', 'status', '--config', cfg]);
      expect(human.stdout).toMatch(/^package kitchen-scale 2\.5\.0 \(\d+ bytes\): UPDATED$/m);
      expect(human.stdout).toMatch(
        /^scale-7\s+kitchen-scale\s+SKIPPED\s+2\.4\.0\s+do not update; household chose do not update$/m,
      );
    }, 30_000);

    it('refuses a package that is not a valid app image, with one line', async () => {
      const bad = Buffer.from(NEW);
      bad[4000] ^= 0xff;
      fs.writeFileSync(path.join(t.dir, 'bad.bin'), bad);
      const res = await runCli([
        'firmware',
        'import',
        '--package',
        path.join(t.dir, 'bad.bin'),
        '--config',
        cfg,
      ]);
      expect(res.code).toBe(1);
      expect(res.stderr.trim()).toMatch(/^edge-agent: refusing .*bad\.bin: .*(checksum|SHA-256)/);
      expect((await status()).package).toBeNull();
    });
  },
);
