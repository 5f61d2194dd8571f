import { Esp32RomSimulator, OP, buildEspImage } from '../support/esp-rom-sim';
import { flashCliPerTest, flashed, jsonLines } from '../support/flash-cli-fixture';
import { hasSocat } from '../support/pty-pair';

/** esptool-js's own limit for a flash data block's answer (ESPLoader: 3 s, 5 s for the first block) */
const ESPTOOL_BLOCK_LIMIT_MS = 3000;

(hasSocat ? describe : describe.skip)(
  'edge-agent flash to a device whose answer comes late once (simulated ESP32 on a PTY)',
  () => {
    const t = flashCliPerTest();

    // The stub acks a data block as it arrives and never looks at its sequence number (esptool's flasher_stub):
    // a block sent again because its answer was late is taken twice, which breaks the deflate stream. The
    // fleet run's "status 1,8" was this, seen through a simulator that refused the second copy.
    it('waits for a block answered after esptool-js’s 3 s limit instead of sending it again: verified, every block taken once', async () => {
      const late = ESPTOOL_BLOCK_LIMIT_MS + 1500;
      const sim = await t.plug(
        new Esp32RomSimulator({ answerDelayMs: (op, nth) => (op === OP.FLASH_DEFL_DATA && nth === 2 ? late : 0) }),
      );
      const image = buildEspImage({ size: 192 * 1024 });
      const file = t.imageFile('app.bin', image);
      const res = await t.flash(['--image', file, '--json'], 60_000);
      const result = jsonLines(res.stdout).at(-1);
      expect({ code: res.code, ok: result?.ok, error: result?.error?.message ?? null }).toEqual({
        code: 0,
        ok: true,
        error: null,
      });
      expect(sim.ops.filter((op) => op === OP.FLASH_DEFL_DATA).length).toBeGreaterThan(3);
      expect(sim.blocksTakenTwice).toBe(0);
      expect(flashed(sim, 0x10000, image)).toBe(true);
    }, 90_000);
  },
);
