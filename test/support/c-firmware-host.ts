import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './temp-dir';

/*
 * The C99 firmware codec (firmware-bridge/firmware) built for the host: the library's sources, gcc with the
 * firmware's warning flags, and host_test (the C side of the shared vectors, units and fuzz, and the decoder and
 * encoder the TypeScript codec is compared with) under ASan/UBSan. gcc is required: CI installs it (.ci/run), so
 * a missing compiler fails instead of skipping the firmware side silently.
 */

export const FIRMWARE_ROOT = path.resolve(__dirname, '../../firmware-bridge/firmware');
export const COMPONENT = path.join(FIRMWARE_ROOT, 'components/edge_proto');
export const SOURCES = fs
  .readdirSync(path.join(COMPONENT, 'src'))
  .filter((f) => f.endsWith('.c'))
  .map((f) => path.join(COMPONENT, 'src', f));
/** host_test.c (main), the test groups it runs and json_mini.c (reads vectors.json): every .c in firmware/test */
const HOST_TEST_SOURCES = fs
  .readdirSync(path.join(FIRMWARE_ROOT, 'test'))
  .filter((f) => f.endsWith('.c'))
  .map((f) => path.join(FIRMWARE_ROOT, 'test', f));
export const VECTORS = path.resolve(__dirname, '../../firmware-bridge/protocol/vectors.json');
export const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-Wshadow'];

export const hex = (h: string): Buffer => Buffer.from(h, 'hex');
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function gcc(args: string[]): void {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`gcc is required for the firmware host tests (CI installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')} failed:\n${r.stderr}`);
}

export interface HostTestRun {
  status: number | null;
  lines: string[];
  stderr: string;
}

export interface HostTest {
  /** runs host_test with `args` */
  run(args: string[]): HostTestRun;
  /** Runs `host_test --decode` on "name frame|wire hex" lines: name → decoded JSON or `error:<kind>` (per frame). */
  decodeInC(items: { name: string; form: 'frame' | 'wire'; bytes: Uint8Array }[]): Map<string, unknown[]>;
}

/** host_test built once for the test file (beforeAll) under ASan/UBSan, removed after it. */
export function hostTestPerFile(): HostTest {
  let tmp: { dir: string; cleanup: () => void } | null = null;
  const built = (): { dir: string; binary: string } => {
    if (tmp === null) throw new Error('host_test: used outside the test file');
    return { dir: tmp.dir, binary: path.join(tmp.dir, 'host_test') };
  };
  beforeAll(() => {
    tmp = tempDir('edge-fw-');
    gcc([
      ...STRICT,
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=all',
      '-fno-omit-frame-pointer',
      '-g',
      '-O1',
      `-I${path.join(COMPONENT, 'include')}`,
      ...SOURCES,
      ...HOST_TEST_SOURCES,
      '-o',
      built().binary,
    ]);
  }, 120_000);
  afterAll(() => tmp?.cleanup());

  // Leak checking is off: the library never allocates, and LeakSanitizer fails under ptrace-restricted CI containers.
  const run = (args: string[]): HostTestRun => {
    const r = spawnSync(built().binary, args, { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
    return { status: r.status, lines: r.stdout.split('\n').filter((l) => l.length > 0), stderr: r.stderr };
  };
  return {
    run,
    decodeInC(items) {
      const file = path.join(built().dir, `decode-${Math.random().toString(36).slice(2)}.txt`);
      fs.writeFileSync(file, items.map((i) => `${i.name} ${i.form} ${toHex(i.bytes)}\n`).join(''));
      const r = run(['--decode', file]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = new Map<string, unknown[]>();
      for (const line of r.lines) {
        const m = /^(decoded|error) (\S+) (.*)$/.exec(line);
        if (m === null) throw new Error(`unexpected output line: ${line}`);
        const list = out.get(m[2]) ?? [];
        list.push(m[1] === 'decoded' ? JSON.parse(m[3]) : `error:${m[3]}`);
        out.set(m[2], list);
      }
      return out;
    },
  };
}
