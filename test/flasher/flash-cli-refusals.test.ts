import * as path from 'node:path';
import { Esp32RomSimulator, buildEspImage, writeIdfBuild } from '../support/esp-rom-sim';
import { flashCliPerTest, flashed, goodImage, jsonLines } from '../support/flash-cli-fixture';
import { hasSocat } from '../support/pty-pair';

(hasSocat ? describe : describe.skip)(
  'edge-agent flash refuses a wrong or broken image before anything is written (simulated ESP32 on a PTY)',
  () => {
    const t = flashCliPerTest();

    it('refuses an image built for another chip after detection, before anything is written', async () => {
      const sim = await t.plug(new Esp32RomSimulator());
      const file = t.imageFile('app-s3.bin', buildEspImage({ chipId: 9, size: 64 * 1024 }));
      const res = await t.flash(['--image', file, '--no-wait']);
      expect(res.code).toBe(1);
      expect(res.stderr).not.toMatch(/^(stub|writing):/m);
      expect(res.stderr).toMatch(
        /edge-agent: refusing to flash app-s3\.bin at 0x10000: image is built for ESP32-S3, but the device is ESP32 — .* pass --force/,
      );
      expect(sim.ops).toContain(0x08); // it did talk to the bootloader …
      expect(sim.flashTouched).toBe(false); // … but wrote and erased nothing
    }, 40_000);

    it('knows the ESP32-C3 family: a C3 image flashes to a C3 (restarted by its RTC watchdog), an ESP32 image is refused there, and a C3 image on an ESP32', async () => {
      let sim = await t.plug(new Esp32RomSimulator({ chip: 'ESP32-C3' }));
      const c3 = buildEspImage({
        chipId: 5,
        size: 64 * 1024,
        appDescriptor: { projectName: 'kitchen-scale', version: '2.5.0', idfVersion: 'v5.3.1' },
      });
      const c3File = t.imageFile('scale-c3.bin', c3);
      const ok = await t.flash(['--image', c3File, '--json']);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(jsonLines(ok.stdout).at(-1)).toMatchObject({
        ok: true,
        chip: 'ESP32-C3 (QFN32) (revision v0.4)',
        mac: '24:6f:28:aa:bb:cc',
        reset: 'rtc-watchdog',
        device: { id: 'scale-7', fw: '2.5.0' },
      });
      expect(flashed(sim, 0x10000, c3)).toBe(true);
      expect(sim.boots).toBe(1);

      await sim.detach();
      sim = await t.plug(new Esp32RomSimulator({ chip: 'ESP32-C3' }));
      const esp32File = t.imageFile('scale-esp32.bin', buildEspImage({ chipId: 0, size: 64 * 1024 }));
      const wrong = await t.flash(['--image', esp32File, '--no-wait']);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(
        /refusing to flash scale-esp32\.bin at 0x10000: image is built for ESP32, but the device is ESP32-C3 — /,
      );
      expect(sim.flashTouched).toBe(false);

      await sim.detach();
      sim = await t.plug(new Esp32RomSimulator());
      const onEsp32 = await t.flash(['--image', c3File, '--no-wait']);
      expect(onEsp32.code).toBe(1);
      expect(onEsp32.stderr).toMatch(/image is built for ESP32-C3, but the device is ESP32 — /);
      expect(sim.flashTouched).toBe(false);
    }, 90_000);

    it("refuses an image that does not fit the device's flash, before anything is written", async () => {
      const sim = await t.plug(new Esp32RomSimulator());
      const file = t.imageFile('app.bin', buildEspImage({ size: 96 * 1024 }));
      const res = await t.flash(['--image', file, '--address', '0x3f0000', '--no-wait']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /^edge-agent: refusing to flash: .*app\.bin at 0x3f0000 does not fit the device's 4MB flash$/m,
      );
      expect(sim.flashTouched).toBe(false);
    }, 40_000);

    it('refuses a flasher_args.json whose build names another chip', async () => {
      const sim = await t.plug(new Esp32RomSimulator());
      const build = writeIdfBuild(path.join(t.dir, 'build'), {
        chip: 'esp32c3',
        app: buildEspImage({ size: 64 * 1024 }),
      });
      const res = await t.flash(['--image', build.flasherArgs, '--no-wait', '--json']);
      expect(res.code).toBe(1);
      expect(jsonLines(res.stdout).at(-1)).toMatchObject({
        event: 'result',
        ok: false,
        flashed: false,
        kind: 'refused',
      });
      expect(jsonLines(res.stdout).at(-1)?.error?.message).toMatch(
        /the build is for esp32c3 \(flasher_args\.json\), but the device is ESP32/,
      );
      expect(sim.flashTouched).toBe(false);
    }, 40_000);

    it.each<[string, () => Buffer, RegExp]>([
      [
        'bad magic',
        () => Buffer.concat([Buffer.from([0x00]), goodImage().subarray(1)]),
        /first byte is 0x00, not the ESP image magic 0xe9/,
      ],
      [
        'bad SHA-256',
        () => {
          const b = goodImage();
          b[b.length - 1] ^= 0xff;
          return b;
        },
        /appended SHA-256 does not match/,
      ],
      [
        'truncated',
        () => goodImage().subarray(0, 40 * 1024),
        /segment \d of 3 claims \d+ bytes .* past the end of the 40960-byte file/,
      ],
    ])('refuses a corrupted image (%s) without opening the port', async (_name, make, why) => {
      const sim = await t.plug(new Esp32RomSimulator());
      const file = t.imageFile('broken.bin', make());
      const res = await t.flash(['--image', file]);
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(why);
      expect(res.stderr).toMatch(/or pass --force to flash it anyway$/m);
      expect(sim.ops).toEqual([]);
    });
  },
);
