import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * The import rules of docs/architecture.md, checked on every source file: a change that breaks the layering fails
 * here, with the file, the import and the rule it breaks.
 */

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = ['agent', 'drivers', 'firmware-bridge', 'scripts', 'bin'];

/** Modules that touch the outside world: a core that imports one of these does I/O. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|dns|dns\/promises|child_process|cluster|worker_threads|tls|readline)$|^(better-sqlite3|serialport|@serialport\/.*|mqtt|aedes|node-ble|dbus-next)$/;

interface Rule {
  name: string;
  /** the files it applies to (paths relative to the repository, with /) */
  applies: (file: string) => boolean;
  /** true when `target` (a repository path for our modules, else the package name) is forbidden */
  forbids: (target: string, ours: boolean) => boolean;
}

const under = (dir: string) => (p: string): boolean => p === dir || p.startsWith(`${dir}/`);

const RULES: Rule[] = [
  {
    name: 'the device protocol imports nothing of ours',
    applies: under('firmware-bridge/protocol'),
    forbids: (t, ours) => ours && !under('firmware-bridge/protocol')(t),
  },
  { name: 'drivers never import the agent', applies: under('drivers'), forbids: (t, ours) => ours && under('agent')(t) },
  { name: 'the firmware bridge (protocol, flasher) never imports the agent', applies: under('firmware-bridge'), forbids: (t, ours) => ours && under('agent')(t) },
  {
    name: 'the engagement core does no I/O and uses no other part of the agent',
    applies: under('agent/engagement'),
    forbids: (t, ours) => (ours ? under('agent')(t) && !under('agent/engagement')(t) : IO_MODULES.test(t)),
  },
  {
    name: 'the consent core (rules, targets, opt-out rates) does no I/O',
    applies: (f) => ['agent/consent/consent-rules.ts', 'agent/consent/consent-target.ts', 'agent/consent/opt-out.ts'].includes(f),
    forbids: (t, ours) => (ours ? under('agent/store')(t) || under('agent/sync')(t) || under('agent/api')(t) || under('drivers')(t) : IO_MODULES.test(t)),
  },
  {
    name: 'only the CLI imports the CLI (cli → agent services → drivers/protocol)',
    // bin/ and the tools in scripts/ sit beside the CLI: a bench may talk to the running agent through its client
    applies: (f) => !under('agent/cli')(f) && !under('bin')(f) && !under('scripts')(f),
    forbids: (t, ours) => ours && under('agent/cli')(t),
  },
];

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module a source imports (static, dynamic, require), ours as repository paths without extension. */
export function importsOf(file: string, source: string): Array<{ target: string; ours: boolean }> {
  const out: Array<{ target: string; ours: boolean }> = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (spec === undefined) continue;
    if (!spec.startsWith('.')) out.push({ target: spec, ours: false });
    else out.push({ target: path.posix.join(path.posix.dirname(file), spec), ours: true });
  }
  return out;
}

export function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    for (const rule of RULES) {
      if (!rule.applies(file)) continue;
      for (const { target, ours } of importsOf(file, source)) {
        if (rule.forbids(target, ours)) found.push(`${file} imports ${target}: ${rule.name}`);
      }
    }
  }
  return found;
}

function sources(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(rel);
      } else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        files.set(rel, fs.readFileSync(path.join(ROOT, rel), 'utf8'));
      }
    }
  };
  for (const d of SOURCES) walk(d);
  return files;
}

describe('layering (docs/architecture.md, import rules)', () => {
  it('every source file keeps the import rules', () => {
    const files = sources();
    expect(files.size).toBeGreaterThan(150);
    expect(violations(files)).toEqual([]);
  });

  it.each([
    ['firmware-bridge/protocol/frames.ts', "import { CHANNELS } from '../../agent/engagement/types';", 'the device protocol imports nothing of ours'],
    ['drivers/serial/serial-link.ts', "import type { AgentConfig } from '../../agent/config';", 'drivers never import the agent'],
    ['firmware-bridge/flasher/esp-flasher.ts', "const { x } = require('../../agent/esm-import');", 'never imports the agent'],
    ['agent/engagement/engagement-engine.ts', "import * as fs from 'node:fs';", 'engagement core does no I/O'],
    ['agent/engagement/engagement-engine.ts', "import { IngestStore } from '../store/ingest-store';", 'engagement core does no I/O'],
    ['agent/consent/consent-rules.ts', "import Database from 'better-sqlite3';", 'consent core'],
    ['agent/consent/opt-out.ts', "import { lookup } from 'node:dns/promises';", 'consent core'],
    ['agent/parts/api-part.ts', "export { renderStatus } from '../cli/commands/status-command';", 'only the CLI imports the CLI'],
    ['agent/sync/embedded-broker.ts', "const m = await import('../cli/main');", 'only the CLI imports the CLI'],
  ])('a breaking import fails: %s ← %s', (file, line, rule) => {
    const found = violations(new Map([[file, `${line}\nexport const x = 1;\n`]]));
    expect(found).toContainEqual(expect.stringContaining(rule));
  });

  it('allowed imports pass: the agent on drivers and the protocol, the CLI on the agent, a core on its own files', () => {
    expect(
      violations(
        new Map([
          ['agent/parts/driver-part.ts', "import type { Driver } from '../../drivers/types';\nimport { CATEGORIES } from '../../firmware-bridge/protocol';"],
          ['agent/cli/main.ts', "import { Agent } from '../controller';"],
          ['agent/engagement/engagement-engine.ts', "import { indexOf } from './index-formula';"],
          ['drivers/sim/sim-driver.ts', "import { encodeSerialFrame } from '../../firmware-bridge/protocol';"],
        ]),
      ),
    ).toEqual([]);
  });
});
