import * as fs from 'node:fs';
import * as path from 'node:path';
import { Esp32RomSimulator, buildEspImage } from './esp-rom-sim';
import { ptyPerTest, type PtyTest } from './pty-per-test';
import { runCli, type CliResult } from './run-cli';

/** One line of `edge-agent flash --json` (docs/cli.md). */
export interface FlashJsonEvent {
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

export const jsonLines = (stdout: string): FlashJsonEvent[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as FlashJsonEvent);

/** Whether the simulated board's flash holds `image` at `address`. */
export const flashed = (sim: Esp32RomSimulator, address: number, image: Uint8Array): boolean =>
  Buffer.compare(Buffer.from(sim.flash.subarray(address, address + image.length)), Buffer.from(image)) === 0;

/** A small valid app image. */
export const goodImage = (): Buffer => buildEspImage({ size: 64 * 1024 });

export interface FlashCliTest extends PtyTest {
  /** this test's config file: a gateway id and a data directory in the test's dir */
  readonly cfgFile: string;
  /** Plugs a simulated board into the device end of the PTY pair; every board plugged is unplugged after the test. */
  plug(sim: Esp32RomSimulator): Promise<Esp32RomSimulator>;
  /** Writes `bytes` as `name` in this test's dir; returns its path. */
  imageFile(name: string, bytes: Uint8Array): string;
  /** The built CLI's `edge-agent flash --port <this PTY> …args`, run in this test's dir. */
  flash(args: string[], timeoutMs?: number): Promise<CliResult>;
}

/** `edge-agent flash` tests: every test gets a PTY pair, a config file, and its boards unplugged afterwards. */
export function flashCliPerTest(): FlashCliTest {
  const plugged: Esp32RomSimulator[] = [];
  const t = ptyPerTest({
    prefix: 'edge-agent-flash-',
    setUp: ({ dir }) => {
      fs.writeFileSync(
        path.join(dir, 'config.yaml'),
        `gateway: { id: gw-flash, dataDir: ${path.join(dir, 'data')} }\n`,
      );
    },
    tearDown: async () => {
      for (const sim of plugged.splice(0)) await sim.detach();
    },
  });
  return {
    get dir() {
      return t.dir;
    },
    get pty() {
      return t.pty;
    },
    get cfgFile() {
      return path.join(t.dir, 'config.yaml');
    },
    async plug(sim) {
      plugged.push(sim);
      await sim.attach(t.pty.device);
      return sim;
    },
    imageFile(name, bytes) {
      const file = path.join(t.dir, name);
      fs.writeFileSync(file, bytes);
      return file;
    },
    flash(args, timeoutMs = 30_000) {
      return runCli(['flash', '--port', t.pty.gateway, ...args], { cwd: t.dir, timeoutMs });
    },
  };
}
