import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/** EDGE_V8_FLAGS: V8 flags NODE_OPTIONS refuses (the unit's --no-opt), applied by bin/edge-agent.js. */
describe('EDGE_V8_FLAGS', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('every flag in it is in effect for the agent, and the CLI works the same', async () => {
    const cfg = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(cfg, `gateway: { id: flags-gw, dataDir: ${JSON.stringify(path.join(t.dir, 'data'))} }\n`);
    // Natives syntax parses only where --allow-natives-syntax is on: proof that the whole string was applied.
    const probe = path.join(t.dir, 'probe.js');
    const out = path.join(t.dir, 'probe.txt');
    fs.writeFileSync(
      probe,
      `process.on('exit', () => {
         let r;
         try { r = require('vm').runInThisContext('%IsBeingInterpreted()') === undefined ? 'natives' : 'natives'; } catch (e) { r = 'no natives: ' + e.message; }
         require('fs').writeFileSync(${JSON.stringify(out)}, r);
       });`,
    );
    const plain = await runCli(['config', 'validate', '--config', cfg], { env: { NODE_OPTIONS: `--require ${probe}` } });
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^no natives/);
    const flagged = await runCli(['config', 'validate', '--config', cfg], { env: { NODE_OPTIONS: `--require ${probe}`, EDGE_V8_FLAGS: '--no-opt --allow-natives-syntax' } });
    expect(fs.readFileSync(out, 'utf8')).toBe('natives');
    expect(flagged).toEqual(plain);
    expect(plain.code).toBe(0);
  });
});
