import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { startCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

/**
 * What `edge-agent run` loads for a config that does not use it (issue #24: every module is compile time at a cold
 * start, and memory after it, on a Pi). A preload records the modules and Node builtins loaded once the agent is
 * ready; each of these is loaded on first use only.
 */
const NOT_LOADED_WITHOUT_USE: Array<[string, RegExp]> = [
  ['QuickJS and the TBEL runtime (no scripts)', /quickjs|agent\/sandbox\/(isolated-script|tbel\/)/],
  ['mqtt.js (no upstream)', /node_modules\/mqtt\//],
  ['serialport (no serial devices)', /node_modules\/(@serialport|serialport)\//],
  ['the BLE stack (no BLE devices)', /node_modules\/(node-ble|dbus-next)\//],
  ['the flasher (no update running)', /firmware-bridge\/flasher\/(?!esp-image-inspector)/],
  ['ajv itself (the config validator is compiled ahead of time; it needs two runtime helpers)', /node_modules\/ajv\/(?!dist\/runtime\/)/],
  ['zlib (CRC32 packages only)', /^builtin:zlib$/],
  ['worker_threads (the checkpoint worker of a busy gateway)', /^builtin:worker_threads$/],
];

describe('edge-agent run loads only what the config uses', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('a sim-only household without scripts, upstream, serial or BLE', async () => {
    const port = await freePort();
    const cfg = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfg,
      [
        `gateway: { id: loads-gw, dataDir: ${JSON.stringify(path.join(t.dir, 'data'))} }`,
        `api: { listen: "127.0.0.1:${port}" }`,
        'devices:',
        '  - { id: scale-1, transport: sim, model: kitchen-scale, profile: smith-family, ratePerMin: 60 }',
        'campaigns:',
        '  - { id: coffee, qualify: { event: dispense }, value: 72, threshold: 30, cooldown: 1h, channels: [push] }',
        'consent:',
        '  grants:',
        '    - { device: scale-1, category: usage }',
        '',
      ].join('\n'),
    );
    const list = path.join(t.dir, 'loaded.txt');
    const preload = path.join(t.dir, 'record-loads.js');
    fs.writeFileSync(
      preload,
      `const fs = require('fs');
       const write = process.stderr.write.bind(process.stderr);
       process.stderr.write = (s, ...a) => {
         if (String(s).includes('"msg":"ready"')) fs.writeFileSync(${JSON.stringify(list)}, [
           ...Object.keys(require.cache),
           ...process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'builtin:' + m.slice(13)),
         ].join('\\n'));
         return write(s, ...a);
       };`,
    );
    const agent = startCli(['run', '--config', cfg], { env: { NODE_OPTIONS: `--require ${preload}`, EDGE_AGENT_LOG_LEVEL: 'info' } });
    try {
      await agent.waitFor(/"msg":"ready"/);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
    const loaded = fs.readFileSync(list, 'utf8').split('\n');
    expect(loaded.some((f) => f.endsWith(path.join('agent', 'controller.js')))).toBe(true); // the list is real
    for (const [what, re] of NOT_LOADED_WITHOUT_USE) expect({ what, loaded: loaded.filter((f) => re.test(f)) }).toEqual({ what, loaded: [] });
  });
});
