import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/**
 * NODE_COMPILE_CACHE through the built CLI (agent/compile-cache.ts on Node < 22.1; newer Node keeps its own cache
 * and these checks of our file format do not apply there).
 */
const ownCache = typeof (Module as unknown as { enableCompileCache?: unknown }).enableCompileCache !== 'function';
const maybe = ownCache ? describe : describe.skip;

maybe('V8 compile cache of the CLI (NODE_COMPILE_CACHE)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  const writeConfig = (): string => {
    const file = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(file, `gateway: { id: cc-gw, dataDir: ${JSON.stringify(path.join(t.dir, 'data'))} }\n`);
    return file;
  };
  const cacheFiles = (dir: string): Map<string, Buffer> => {
    const out = new Map<string, Buffer>();
    for (const sub of fs.readdirSync(dir)) for (const f of fs.readdirSync(path.join(dir, sub))) out.set(path.join(sub, f), fs.readFileSync(path.join(dir, sub, f)));
    return out;
  };

  it('is written by a first run, used unchanged by the next, and a torn file is replaced, with the same output each time', async () => {
    const cfg = writeConfig();
    const cache = path.join(t.dir, 'cache');
    const env = { NODE_COMPILE_CACHE: cache };
    const first = await runCli(['config', 'validate', '--config', cfg], { env });
    expect(first.code).toBe(0);
    const written = cacheFiles(cache);
    expect(written.size).toBeGreaterThan(50); // the CLI, commander, yaml, the config code...
    expect([...fs.readdirSync(cache)]).toEqual([`edge-agent-${process.version}-${process.arch}`]);

    const second = await runCli(['config', 'validate', '--config', cfg], { env });
    expect(second).toEqual(first);
    expect(cacheFiles(cache)).toEqual(written); // every module found its cache: nothing rewritten

    // a file cut short (a crash while the disk had it half written): ignored, compiled, written again whole
    const [victim, whole] = [...written].find(([, b]) => b.length > 1000)!;
    fs.writeFileSync(path.join(cache, victim), whole.subarray(0, whole.length >> 1));
    const third = await runCli(['config', 'validate', '--config', cfg], { env });
    expect(third).toEqual(first);
    expect(fs.readFileSync(path.join(cache, victim)).length).toBeGreaterThan(whole.length >> 1);
  });

  it('a cache directory that cannot be created changes nothing but speed', async () => {
    const cfg = writeConfig();
    const notADir = path.join(t.dir, 'file');
    fs.writeFileSync(notADir, '');
    const plain = await runCli(['config', 'validate', '--config', cfg]);
    const withBadCache = await runCli(['config', 'validate', '--config', cfg], { env: { NODE_COMPILE_CACHE: path.join(notADir, 'cache') } });
    expect(withBadCache).toEqual(plain);
    expect(plain.code).toBe(0);
  });
});
