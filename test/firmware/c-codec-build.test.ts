/** The C99 firmware codec builds as the device builds it: strict C99 warnings, no libc beyond a few headers, no heap. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMPONENT, SOURCES, STRICT, gcc } from '../support/c-firmware-host';
import { tempDir } from '../support/temp-dir';

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('edge-fw-');
});
afterAll(() => tmp?.cleanup());

describe('C library build', () => {
  const objDir = (): string => path.join(tmp.dir, 'objs');
  beforeAll(() => {
    // -Os as on the device; optimisation enables more of gcc's flow warnings (e.g. maybe-uninitialized).
    fs.mkdirSync(objDir());
    for (const src of SOURCES) {
      const obj = path.join(objDir(), path.basename(src, '.c') + '.o');
      gcc([...STRICT, '-Wconversion', '-Os', `-I${path.join(COMPONENT, 'include')}`, '-c', src, '-o', obj]);
    }
  }, 120_000);

  it('compiles cleanly as C99 with -Wall -Wextra -Werror -pedantic -Wconversion, with and without -Os', () => {
    gcc([...STRICT, '-Wconversion', `-I${path.join(COMPONENT, 'include')}`, '-fsyntax-only', ...SOURCES]);
    expect(fs.readdirSync(objDir())).toHaveLength(SOURCES.length);
  });

  it('uses no libc beyond stdint/stddef/string/stdbool and no heap', () => {
    const allowed = new Set(['stdint.h', 'stddef.h', 'string.h', 'stdbool.h']);
    const headers = fs
      .readdirSync(path.join(COMPONENT, 'include/edge_proto'))
      .map((f) => path.join(COMPONENT, 'include/edge_proto', f));
    for (const f of [...SOURCES, ...headers]) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/#include\s*<([^>]+)>/g)) {
        expect({ file: path.basename(f), header: m[1], allowed: allowed.has(m[1]) }).toMatchObject({
          allowed: true,
        });
      }
    }
    // What the compiled objects actually link against: only our own symbols and <string.h> functions.
    const libc = new Set(['memcpy', 'memmove', 'memset', 'memcmp', 'strlen', 'strcmp']);
    const objs = fs.readdirSync(objDir()).map((f) => path.join(objDir(), f));
    const undefinedSyms = spawnSync('nm', ['-u', ...objs], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => /^\s+U (\S+)$/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(undefinedSyms).toContain('edge_crc16'); // nm really listed the objects' imports
    expect([...new Set(undefinedSyms.filter((x) => !x.startsWith('edge_') && !libc.has(x)))]).toEqual([]);
  });
});
