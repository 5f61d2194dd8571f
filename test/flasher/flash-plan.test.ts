import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  FlashPlanError,
  buildFlashPlan,
  parseAddress,
  planProblems,
  refusalMessage,
} from '../../firmware-bridge/flasher/flash-plan';
import { buildEspImage, writeIdfBuild } from '../support/esp-rom-sim';
import { tempDir } from '../support/temp-dir';

describe('FlashPlan', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('edge-agent-plan-')));
  afterEach(() => t.cleanup());

  it.each<[string, number | string]>([
    ['0x10000', 0x10000],
    ['0X1000', 0x1000],
    ['65536', 65536],
    [' 0x8000 ', 0x8000],
    ['0x', 'not a number'],
    ['-4096', 'not a number'],
    ['64k', 'not a number'],
  ])('address %s → %s', (text, expected) => {
    if (typeof expected === 'number') expect(parseAddress(text)).toBe(expected);
    else expect(() => parseAddress(text)).toThrow(/is not a number \(use hex like 0x10000\)/);
  });

  it('a lone image goes to the factory app offset and is named by its app descriptor', () => {
    const file = path.join(t.dir, 'app.bin');
    fs.writeFileSync(file, buildEspImage({ size: 4096 }));
    const plan = buildFlashPlan(file, undefined);
    expect(plan.parts).toHaveLength(1);
    expect(plan.parts[0]).toMatchObject({ address: 0x10000, role: 'app' });
    expect(plan.app?.inspection?.appDescriptor?.version).toBe('2.4.0');
    const boot = path.join(t.dir, 'bootloader.bin');
    fs.writeFileSync(boot, buildEspImage({ size: 4096, appDescriptor: null }));
    expect(buildFlashPlan(boot, '0x1000').parts[0]).toMatchObject({ role: 'bootloader', address: 0x1000 });
    expect(buildFlashPlan(boot, '0x1000').app).toBeNull();
  });

  it('reads every file of flasher_args.json at its offset, in address order, with roles', () => {
    const build = writeIdfBuild(t.dir, { app: buildEspImage({ size: 8192 }) });
    const plan = buildFlashPlan(build.flasherArgs, undefined);
    expect(plan.chip).toBe('esp32');
    expect(plan.parts.map((p) => [p.role, p.address, p.data.length])).toEqual([
      ['bootloader', 0x1000, build.bootloader.length],
      ['partition-table', 0x8000, 0xc00],
      ['app', 0x10000, build.app.length],
    ]);
    expect(plan.parts[1].inspection).toBeNull(); // not an ESP image: not checked as one
    expect(planProblems(plan, 0)).toEqual([]);
  });

  it('names the broken part of a multi-part build and how to override', () => {
    const build = writeIdfBuild(t.dir, { app: buildEspImage({ size: 8192, chipId: 5 }) });
    const found = planProblems(buildFlashPlan(build.flasherArgs, undefined), 0);
    expect(found.map((f) => f.part.role)).toEqual(['app']);
    expect(refusalMessage(found)).toBe(
      'refusing to flash kitchen-scale.bin at 0x10000: image is built for ESP32-C3, but the device is ESP32 — rebuild or re-download the image, or pass --force to flash it anyway',
    );
  });

  it('checks the partition table of a build and where its app goes', () => {
    const build = writeIdfBuild(t.dir, { app: buildEspImage({ size: 8192 }) });
    const doc = JSON.parse(fs.readFileSync(build.flasherArgs, 'utf8')) as {
      flash_files: Record<string, string>;
      app: { offset: string };
    };
    doc.flash_files = {
      '0x1000': 'bootloader/bootloader.bin',
      '0x8000': 'partition_table/partition-table.bin',
      '0x20000': 'kitchen-scale.bin',
    };
    doc.app.offset = '0x20000';
    fs.writeFileSync(build.flasherArgs, JSON.stringify(doc));
    const found = planProblems(buildFlashPlan(build.flasherArgs, undefined), 0);
    expect(found.map((f) => f.part.role)).toEqual(['partition-table']);
    expect(refusalMessage(found)).toMatch(
      /^refusing to flash partition-table\.bin at 0x8000: the app goes to 0x20000, but the partition table has no app partition there \(factory at 0x10000\) — /,
    );
  });

  it.each<[string, (dir: string) => [string, string | undefined], RegExp]>([
    ['missing file', (d) => [path.join(d, 'nope.bin'), undefined], /image .*nope\.bin does not exist/],
    [
      'empty file',
      (d) => (fs.writeFileSync(path.join(d, 'e.bin'), ''), [path.join(d, 'e.bin'), undefined]),
      /is empty/,
    ],
    [
      'unaligned address',
      (d) => (
        fs.writeFileSync(path.join(d, 'a.bin'), buildEspImage({ size: 4096 })),
        [path.join(d, 'a.bin'), '0x10004']
      ),
      /0x10004 .* not on a 4 KiB flash sector boundary/,
    ],
    [
      '--address with flasher_args.json',
      (d) => [writeIdfBuild(d).flasherArgs, '0x10000'],
      /--address does not apply to flasher_args\.json/,
    ],
    [
      'flasher_args.json that is not JSON',
      (d) => (
        fs.writeFileSync(path.join(d, 'flasher_args.json'), '{ nope'),
        [path.join(d, 'flasher_args.json'), undefined]
      ),
      /cannot read .*flasher_args\.json as flasher_args\.json/,
    ],
    [
      'flasher_args.json without flash_files',
      (d) => (
        fs.writeFileSync(path.join(d, 'flasher_args.json'), '{"app": {}}'),
        [path.join(d, 'flasher_args.json'), undefined]
      ),
      /has no "flash_files"/,
    ],
    [
      'overlapping parts',
      (d) => {
        const build = writeIdfBuild(d);
        const doc = JSON.parse(fs.readFileSync(build.flasherArgs, 'utf8')) as {
          flash_files: Record<string, string>;
        };
        doc.flash_files = { '0x1000': 'bootloader/bootloader.bin', '0x4000': 'kitchen-scale.bin' };
        fs.writeFileSync(build.flasherArgs, JSON.stringify(doc));
        return [build.flasherArgs, undefined];
      },
      /bootloader\.bin \(0x1000, \d+ bytes\) overlaps kitchen-scale\.bin at 0x4000/,
    ],
  ])('refuses a plan with %s', (_name, setup, message) => {
    const [image, address] = setup(t.dir);
    let err: unknown;
    try {
      buildFlashPlan(image, address);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlashPlanError);
    expect((err as Error).message).toMatch(message);
  });
});
