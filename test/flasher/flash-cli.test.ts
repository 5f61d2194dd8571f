import * as fs from 'node:fs';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { openDatabase, databasePath } from '../../agent/store/database';
import { IngestStore } from '../../agent/store/ingest-store';
import { Esp32RomSimulator, OP, buildEspImage, writeIdfBuild } from '../support/esp-rom-sim';
import { PtyPair, hasSocat } from '../support/pty-pair';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

interface FlashJsonEvent {
  event: 'stage' | 'progress' | 'result' | 'log';
  stage?: string;
  bytes?: number;
  total?: number;
  bytesPerSecond?: number | null;
  etaS?: number | null;
  ok?: boolean;
  error?: { message: string; exitCode: number };
  [k: string]: unknown;
}

const jsonLines = (stdout: string): FlashJsonEvent[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as FlashJsonEvent);

const flashed = (sim: Esp32RomSimulator, address: number, image: Uint8Array): boolean =>
  Buffer.compare(Buffer.from(sim.flash.subarray(address, address + image.length)), Buffer.from(image)) === 0;

(hasSocat ? describe : describe.skip)(
  'edge-agent flash through esptool-js to a simulated ESP32 ROM bootloader on a PTY',
  () => {
    let t: ReturnType<typeof tempDir>;
    let pty: PtyPair;
    let sim: Esp32RomSimulator;
    let cfgFile: string;

    beforeEach(async () => {
      t = tempDir('edge-agent-flash-');
      pty = new PtyPair(t.dir);
      await pty.start();
      cfgFile = path.join(t.dir, 'config.yaml');
      fs.writeFileSync(cfgFile, `gateway: { id: gw-flash, dataDir: ${path.join(t.dir, 'data')} }\n`);
    });
    afterEach(async () => {
      await sim?.detach();
      await pty.stop();
      t.cleanup();
    });

    it('flashes a real-format app byte-exact, emits JSON progress, and records the hello in the registry', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const image = buildEspImage({
        size: 160 * 1024,
        appDescriptor: { projectName: 'kitchen-scale', version: '2.4.0', idfVersion: 'v5.3.1' },
      });
      const file = path.join(t.dir, 'kitchen-scale.bin');
      fs.writeFileSync(file, image);
      const res = await runCli(
        [
          'flash',
          '--port',
          pty.gateway,
          '--image',
          file,
          '--profile',
          'home-a',
          '--config',
          cfgFile,
          '--json',
        ],
        { timeoutMs: 30_000 },
      );
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
      sim = new Esp32RomSimulator({
        app: { id: 'door-3', model: 'fridge-door', ch: [{ n: 1, k: 'door', c: 'usage' }] },
      });
      await sim.attach(pty.device);
      const build = writeIdfBuild(path.join(t.dir, 'build'), {
        app: buildEspImage({
          size: 100 * 1024,
          appDescriptor: { projectName: 'fridge-door', version: '1.9.2', idfVersion: 'v5.2' },
        }),
      });
      const res = await runCli(
        ['flash', '-p', pty.gateway, '-i', build.flasherArgs, '--baud', '921600', '--config', cfgFile],
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

    it('refuses an image built for another chip after detection, before anything is written', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const file = path.join(t.dir, 'app-s3.bin');
      fs.writeFileSync(file, buildEspImage({ chipId: 9, size: 64 * 1024 }));
      const res = await runCli(['flash', '--port', pty.gateway, '--image', file, '--no-wait'], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).not.toMatch(/^(stub|writing):/m);
      expect(res.stderr).toMatch(
        /edge-agent: refusing to flash app-s3\.bin at 0x10000: image is built for ESP32-S3, but the device is ESP32 — .* pass --force/,
      );
      expect(sim.ops).toContain(0x08); // it did talk to the bootloader …
      expect(sim.flashTouched).toBe(false); // … but wrote and erased nothing
    }, 40_000);

    it('knows the ESP32-C3 family: a C3 image flashes to a C3 (restarted by its RTC watchdog), an ESP32 image is refused there, and a C3 image on an ESP32', async () => {
      sim = new Esp32RomSimulator({ chip: 'ESP32-C3' });
      await sim.attach(pty.device);
      const c3 = buildEspImage({ chipId: 5, size: 64 * 1024, appDescriptor: { projectName: 'kitchen-scale', version: '2.5.0', idfVersion: 'v5.3.1' } });
      const c3File = path.join(t.dir, 'scale-c3.bin');
      fs.writeFileSync(c3File, c3);
      const ok = await runCli(['flash', '--port', pty.gateway, '--image', c3File, '--json'], { cwd: t.dir, timeoutMs: 30_000 });
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
      sim = new Esp32RomSimulator({ chip: 'ESP32-C3' });
      await sim.attach(pty.device);
      const esp32File = path.join(t.dir, 'scale-esp32.bin');
      fs.writeFileSync(esp32File, buildEspImage({ chipId: 0, size: 64 * 1024 }));
      const wrong = await runCli(['flash', '--port', pty.gateway, '--image', esp32File, '--no-wait'], { cwd: t.dir, timeoutMs: 30_000 });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/refusing to flash scale-esp32\.bin at 0x10000: image is built for ESP32, but the device is ESP32-C3 — /);
      expect(sim.flashTouched).toBe(false);

      await sim.detach();
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const onEsp32 = await runCli(['flash', '--port', pty.gateway, '--image', c3File, '--no-wait'], { cwd: t.dir, timeoutMs: 30_000 });
      expect(onEsp32.code).toBe(1);
      expect(onEsp32.stderr).toMatch(/image is built for ESP32-C3, but the device is ESP32 — /);
      expect(sim.flashTouched).toBe(false);
    }, 90_000);

    it("refuses an image that does not fit the device's flash, before anything is written", async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const file = path.join(t.dir, 'app.bin');
      fs.writeFileSync(file, buildEspImage({ size: 96 * 1024 }));
      const res = await runCli(
        ['flash', '--port', pty.gateway, '--image', file, '--address', '0x3f0000', '--no-wait'],
        { cwd: t.dir, timeoutMs: 30_000 },
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /^edge-agent: refusing to flash: .*app\.bin at 0x3f0000 does not fit the device's 4MB flash$/m,
      );
      expect(sim.flashTouched).toBe(false);
    }, 40_000);

    it('refuses a flasher_args.json whose build names another chip', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const build = writeIdfBuild(path.join(t.dir, 'build'), {
        chip: 'esp32c3',
        app: buildEspImage({ size: 64 * 1024 }),
      });
      const res = await runCli(
        ['flash', '--port', pty.gateway, '--image', build.flasherArgs, '--no-wait', '--json'],
        { cwd: t.dir, timeoutMs: 30_000 },
      );
      expect(res.code).toBe(1);
      expect(jsonLines(res.stdout).at(-1)).toMatchObject({
        event: 'result',
        ok: false,
        flashed: false,
        kind: 'refused',
      });
      expect(jsonLines(res.stdout).at(-1)?.error?.message).toMatch(/the build is for esp32c3 \(flasher_args\.json\), but the device is ESP32/);
      expect(sim.flashTouched).toBe(false);
    }, 40_000);

    const good = (): Buffer => buildEspImage({ size: 64 * 1024 });
    it.each<[string, () => Buffer, RegExp]>([
      [
        'bad magic',
        () => Buffer.concat([Buffer.from([0x00]), good().subarray(1)]),
        /first byte is 0x00, not the ESP image magic 0xe9/,
      ],
      [
        'bad SHA-256',
        () => {
          const b = good();
          b[b.length - 1] ^= 0xff;
          return b;
        },
        /appended SHA-256 does not match/,
      ],
      [
        'truncated',
        () => good().subarray(0, 40 * 1024),
        /segment \d of 3 claims \d+ bytes .* past the end of the 40960-byte file/,
      ],
    ])('refuses a corrupted image (%s) without opening the port', async (_name, make, why) => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const file = path.join(t.dir, 'broken.bin');
      fs.writeFileSync(file, make());
      const res = await runCli(['flash', '--port', pty.gateway, '--image', file], { cwd: t.dir });
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(why);
      expect(res.stderr).toMatch(/or pass --force to flash it anyway$/m);
      expect(sim.ops).toEqual([]);
    });

    it('--force flashes an image whose checks fail', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const image = good();
      image[image.length - 1] ^= 0xff;
      const file = path.join(t.dir, 'modified.bin');
      fs.writeFileSync(file, image);
      const res = await runCli(['flash', '--port', pty.gateway, '--image', file, '--force', '--no-wait'], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(res.code).toBe(0);
      expect(flashed(sim, 0x10000, image)).toBe(true);
    }, 40_000);

    it('reports an MD5 mismatch when the flash does not hold what was sent', async () => {
      sim = new Esp32RomSimulator({ corruptByteAt: 0x10000 + 5000 });
      await sim.attach(pty.device);
      const file = path.join(t.dir, 'app.bin');
      fs.writeFileSync(file, good());
      const res = await runCli(['flash', '--port', pty.gateway, '--image', file, '--json'], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(res.code).toBe(1);
      // under --json the failure is the stream's last line on stdout (docs/cli.md), stderr stays empty
      expect(res.stderr).toBe('');
      const result = jsonLines(res.stdout).at(-1);
      expect(result).toMatchObject({ ok: false, kind: 'verify', halfWritten: true, error: { exitCode: 1 } });
      expect(result?.error?.message).toMatch(/^verification failed: the flash content read back \(MD5\) differs from the image — flash again/);
      expect(sim.boots).toBe(0);
    }, 40_000);

    it('says the device went away when it is unplugged mid-flash, and a retry after replugging succeeds', async () => {
      let unplugged: Promise<void> | null = null;
      sim = new Esp32RomSimulator({
        onFlashBlock: (seq) => {
          if (seq !== 0 || unplugged) return;
          // The cable goes at the first block: the chip answers nothing more at once (socat takes a moment to
          // die, and a small, compressible image could otherwise finish before it does).
          void sim.detach();
          unplugged = pty.stop();
        },
      });
      await sim.attach(pty.device);
      const image = buildEspImage({ size: 160 * 1024 });
      const file = path.join(t.dir, 'app.bin');
      fs.writeFileSync(file, image);
      const first = await runCli(['flash', '--port', pty.gateway, '--image', file], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(unplugged).not.toBeNull();
      await unplugged;
      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(
        /^edge-agent: the device went away while writing on .*ttyUSB0 \((the port disappeared: unplugged\?|port error: .+)\) — reconnect it and run the same command again \(the flash is half-written/m,
      );
      expect(flashed(sim, 0x10000, image)).toBe(false);
      // Replug: the same port path comes back; the board is put in download mode again.
      await sim.detach();
      pty = new PtyPair(t.dir);
      await pty.start();
      await sim.attach(pty.device);
      const retry = await runCli(['flash', '--port', pty.gateway, '--image', file], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(retry.code).toBe(0);
      expect(flashed(sim, 0x10000, image)).toBe(true);
      expect(retry.stdout).toMatch(/device scale-7 \(kitchen-scale\) is up with firmware 2\.4\.0/);
    }, 60_000);

    // Unplugs at many points of a transfer, each a fresh device: whatever was pending when the port went, the
    // command must end with status 1 and one line on stderr (it once ended with status 0 and nothing said).
    type UnplugPoint = { command?: (op: number, nth: number, sim: Esp32RomSimulator) => boolean; block?: number };
    const unplugPoints: Array<[string, UnplugPoint]> = [
      ['during the stub upload', { command: (op, nth) => op === OP.MEM_DATA && nth === 1 }],
      ['at the flash begin', { command: (op) => op === OP.FLASH_DEFL_BEGIN }],
      ['after block 0', { block: 0 }],
      ['before block 1 is answered', { command: (op, nth) => op === OP.FLASH_DEFL_DATA && nth === 1 }],
      ['after block 1', { block: 1 }],
      ['after block 4', { block: 4 }],
      ['at the end of the write', { command: (op) => op === OP.FLASH_DEFL_END }],
      ['at the MD5 check', { command: (op) => op === OP.SPI_FLASH_MD5 }],
      ['at the reset', { command: (op, _nth, sim) => op === OP.WRITE_REG && sim.ops.includes(OP.SPI_FLASH_MD5) }],
    ];
    it('exits 1 with one line when unplugged at any point of the transfer, never 0', async () => {
      const image = buildEspImage({ size: 192 * 1024, appDescriptor: { projectName: 'kitchen-scale', version: '2.4.0', idfVersion: 'v5.3.1' } });
      const file = path.join(t.dir, 'app.bin');
      fs.writeFileSync(file, image);
      await pty.stop();
      const outcomes: string[] = [];
      for (const [where, at] of unplugPoints) {
        const link = new PtyPair(t.dir, 'ttyUSB1');
        await link.start();
        let unplugged: Promise<void> | null = null;
        const unplug = (): void => {
          if (unplugged) return;
          void dev.detach();
          unplugged = link.stop();
        };
        const dev = new Esp32RomSimulator({
          onCommand: (op, nth) => {
            if (at.command?.(op, nth, dev)) unplug();
          },
          onFlashBlock: (seq) => {
            if (seq === at.block) unplug();
          },
        });
        await dev.attach(link.device);
        const res = await runCli(['flash', '--port', link.gateway, '--image', file, '--json', '--hello-timeout', '3'], {
          cwd: t.dir,
          timeoutMs: 40_000,
        });
        await dev.detach();
        await link.stop();
        const lines = res.stderr.trim().split('\n').filter(Boolean);
        outcomes.push(`${where}: exit ${res.code}, ${lines.length} stderr line(s)${unplugged ? '' : ' (never unplugged)'}: ${lines.join(' | ')}`);
        const result = jsonLines(res.stdout).at(-1);
        // under --json the one line is the result's error on stdout (docs/cli.md); stderr says nothing more
        expect({ where, unplugged: unplugged !== null, code: res.code, lines: lines.length, ok: result?.ok }).toEqual({
          where,
          unplugged: true,
          code: 1,
          lines: 0,
          ok: false,
        });
        expect(result?.error?.message).toMatch(/^(the device went away|the flash stopped without a result|flashing failed|no ESP bootloader answers|flashed and verified, but no hello)/);
      }
      expect(outcomes).toHaveLength(unplugPoints.length);
    }, 240_000);

    it('explains download mode when no bootloader answers (board running its app, BOOT not held)', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      sim.mode = 'app'; // the board is running firmware, not the ROM bootloader: SLIP goes unanswered
      const file = path.join(t.dir, 'app.bin');
      fs.writeFileSync(file, good());
      const res = await runCli(['flash', '--port', pty.gateway, '--image', file, '--json'], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toBe('');
      const result = jsonLines(res.stdout).at(-1);
      expect(result).toMatchObject({ ok: false, kind: 'connect', halfWritten: false });
      expect(result?.error?.message).toMatch(
        /^no ESP bootloader answers on .*ttyUSB0 \(Failed to connect with the device\) — put the board in download mode \(hold BOOT, tap EN\/RESET, release BOOT\)/,
      );
    }, 40_000);

    it('says when the port is held by another program, or does not exist', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const file = path.join(t.dir, 'app.bin');
      fs.writeFileSync(file, good());
      const holder = new SerialPort({ path: pty.gateway, baudRate: 115200, autoOpen: false });
      await new Promise<void>((resolve, reject) => holder.open((e) => (e ? reject(e) : resolve())));
      try {
        const busy = await runCli(['flash', '--port', pty.gateway, '--image', file], {
          cwd: t.dir,
          timeoutMs: 30_000,
        });
        expect(busy.code).toBe(1);
        expect(busy.stderr).toMatch(
          /^edge-agent: .*ttyUSB0 is in use by another program .* stop it \(sudo systemctl stop edge-agent\)/m,
        );
      } finally {
        await new Promise<void>((r) => holder.close(() => r()));
      }
      const missing = await runCli(['flash', '--port', path.join(t.dir, 'ttyUSB9'), '--image', file], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(
        /^edge-agent: .*ttyUSB9 does not exist — is the board plugged in\? \(edge-agent devices scan lists the ports\)$/m,
      );
      expect(sim.ops).toEqual([]);
    }, 40_000);

    it('--erase wipes the whole flash first', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      sim.flash.fill(0x00, 0x300000, 0x301000); // old data elsewhere, e.g. NVS of a previous firmware
      const file = path.join(t.dir, 'app.bin');
      const image = good();
      fs.writeFileSync(file, image);
      const res = await runCli(['flash', '--port', pty.gateway, '--image', file, '--erase', '--no-wait'], {
        cwd: t.dir,
        timeoutMs: 30_000,
      });
      expect(res.code).toBe(0);
      expect(res.stderr).toMatch(/^erasing: erasing the whole flash$/m);
      expect(sim.flash[0x300000]).toBe(0xff);
      expect(flashed(sim, 0x10000, image)).toBe(true);
    }, 40_000);

    it('fails with exit 1 when the flashed app never says hello, and exit 2 on usage errors', async () => {
      sim = new Esp32RomSimulator();
      await sim.attach(pty.device);
      const file = path.join(t.dir, 'raw.bin');
      fs.writeFileSync(file, good());
      // Flashed somewhere the simulated bootloader does not boot from: the device never runs it.
      const res = await runCli(
        ['flash', '--port', pty.gateway, '--image', file, '--address', '0x200000', '--hello-timeout', '1'],
        { cwd: t.dir, timeoutMs: 30_000 },
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /^edge-agent: flashed and verified, but no hello from the device within 1 s at 115200 baud — /m,
      );
      const usage = await runCli(['flash', '--port', pty.gateway, '--image', file, '--address', '0x10800'], {
        cwd: t.dir,
      });
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/address 0x10800 for .* is not on a 4 KiB flash sector boundary/);
      const missing = await runCli(
        ['flash', '--port', pty.gateway, '--image', path.join(t.dir, 'nope.bin')],
        { cwd: t.dir },
      );
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/image .*nope\.bin does not exist/);
    }, 40_000);
  },
);
