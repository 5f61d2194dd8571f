import * as path from 'node:path';
import { openDatabase, databasePath } from '../../agent/store/database';
import { IngestStore } from '../../agent/store/ingest-store';
import { Esp32RomSimulator, buildEspImage, writeIdfBuild } from '../support/esp-rom-sim';
import { flashCliPerTest, flashed, goodImage, jsonLines } from '../support/flash-cli-fixture';
import { hasSocat } from '../support/pty-pair';
import { runCli } from '../support/run-cli';

(hasSocat ? describe : describe.skip)(
  'edge-agent flash writes what it is given to a simulated ESP32 ROM bootloader on a PTY (esptool-js)',
  () => {
    const t = flashCliPerTest();

    it('flashes a real-format app byte-exact, emits JSON progress, and records the hello in the registry', async () => {
      const sim = await t.plug(new Esp32RomSimulator());
      const image = buildEspImage({
        size: 160 * 1024,
        appDescriptor: { projectName: 'kitchen-scale', version: '2.4.0', idfVersion: 'v5.3.1' },
      });
      const file = t.imageFile('kitchen-scale.bin', image);
      const res = await t.flash(['--image', file, '--profile', 'home-a', '--config', t.cfgFile, '--json']);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(flashed(sim, 0x10000, image)).toBe(true);
      const events = jsonLines(res.stdout);
      expect(events.map((e) => e.stage).filter(Boolean)).toEqual([
        'connecting',
        'detected',
        'stub',
        'writing',
        'verified',
        'resetting',
        'done',
      ]);
      const progress = events.filter((e) => e.event === 'progress');
      expect(progress.length).toBeGreaterThan(2);
      expect(progress.at(-1)).toMatchObject({ bytes: image.length, total: image.length, percent: 100 });
      expect(progress.at(-1)?.bytesPerSecond).toBeGreaterThan(0);
      const result = events.at(-1)!;
      expect(result).toMatchObject({
        event: 'result',
        ok: true,
        chip: 'ESP32-D0WD-V3 (revision 3)',
        mac: '24:6f:28:aa:bb:cc',
        flashSize: '4MB',
        reset: 'rtc-watchdog',
        imageVersion: '2.4.0',
        device: { id: 'scale-7', model: 'kitchen-scale', fw: '2.4.0' },
        fwMatchesImage: true,
        recorded: true,
        profile: 'home-a',
      });
      expect(sim.boots).toBe(1);
      const db = openDatabase(databasePath(path.join(t.dir, 'data')));
      try {
        const rec = new IngestStore(db).flashRecord('scale-7');
        expect(rec).toMatchObject({
          fw: '2.4.0',
          flashedFw: '2.4.0',
          profile: 'home-a',
          mac: '24:6f:28:aa:bb:cc',
        });
        expect(rec?.flashedAt).toBeGreaterThan(Date.now() - 60_000);
      } finally {
        db.close();
      }
    }, 40_000);

    it('flashes bootloader, partition table and app from flasher_args.json, with plain progress lines off a TTY', async () => {
      const sim = await t.plug(
        new Esp32RomSimulator({
          app: { id: 'door-3', model: 'fridge-door', ch: [{ n: 1, k: 'door', c: 'usage' }] },
        }),
      );
      const build = writeIdfBuild(path.join(t.dir, 'build'), {
        app: buildEspImage({
          size: 100 * 1024,
          appDescriptor: { projectName: 'fridge-door', version: '1.9.2', idfVersion: 'v5.2' },
        }),
      });
      const res = await runCli(
        ['flash', '-p', t.pty.gateway, '-i', build.flasherArgs, '--baud', '921600', '--config', t.cfgFile],
        { timeoutMs: 30_000 },
      );
      expect(res.code).toBe(0);
      expect(flashed(sim, 0x1000, build.bootloader)).toBe(true);
      expect(flashed(sim, 0x8000, build.partitionTable)).toBe(true);
      expect(flashed(sim, 0x10000, build.app)).toBe(true);
      expect(res.stderr).toMatch(/^writing: writing .*bootloader\.bin \(\d+ bytes\) at 0x1000$/m);
      expect(res.stderr).toMatch(/^part 3\/3  \[#{24}\] 100%  .* KiB\/s  ETA 0\.0 s$/m);
      expect(res.stderr).not.toMatch(/\x1b\[/); // no cursor movement when not a terminal
      expect(res.stdout).toMatch(
        /^flashed \d+\.\d KiB in 3 parts to ESP32-D0WD-V3 \(revision 3\) \(MAC 24:6f:28:aa:bb:cc\) in [\d.]+ s, [\d.]+ KiB\/s, MD5 verified \(restarted by watchdog/m,
      );
      expect(res.stdout).toMatch(/^device door-3 \(fridge-door\) is up with firmware 1\.9\.2/m);
      const db = openDatabase(databasePath(path.join(t.dir, 'data')));
      try {
        expect(new IngestStore(db).flashRecord('door-3')).toMatchObject({
          fw: '1.9.2',
          flashedFw: '1.9.2',
          profile: null,
        });
      } finally {
        db.close();
      }
    }, 40_000);

    it('--force flashes an image whose checks fail', async () => {
      const sim = await t.plug(new Esp32RomSimulator());
      const image = goodImage();
      image[image.length - 1] ^= 0xff;
      const file = t.imageFile('modified.bin', image);
      const res = await t.flash(['--image', file, '--force', '--no-wait']);
      expect(res.code).toBe(0);
      expect(flashed(sim, 0x10000, image)).toBe(true);
    }, 40_000);

    it('--erase wipes the whole flash first', async () => {
      const sim = await t.plug(new Esp32RomSimulator());
      sim.flash.fill(0x00, 0x300000, 0x301000); // old data elsewhere, e.g. NVS of a previous firmware
      const image = goodImage();
      const file = t.imageFile('app.bin', image);
      const res = await t.flash(['--image', file, '--erase', '--no-wait']);
      expect(res.code).toBe(0);
      expect(res.stderr).toMatch(/^erasing: erasing the whole flash$/m);
      expect(sim.flash[0x300000]).toBe(0xff);
      expect(flashed(sim, 0x10000, image)).toBe(true);
    }, 40_000);
  },
);
