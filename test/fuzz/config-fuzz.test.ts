import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { ConfigError, parseConfig } from '../../agent/config';
import { REPO } from '../support/run-cli';

const SEED = 20261203;
const opts = { sourceName: 'fuzz.yaml', baseDir: '/tmp', env: {} };

/** parseConfig either returns a config or throws a ConfigError whose every issue names a path and a message. */
function expectCleanOutcome(text: string): void {
  try {
    parseConfig(text, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError (${String(err)}) for:\n${text.slice(0, 400)}`);
    expect(err.issues.length).toBeGreaterThan(0);
    for (const i of err.issues) {
      expect(typeof i.path).toBe('string');
      expect(i.message.length).toBeGreaterThan(0);
    }
  }
}

const example = YAML.parse(fs.readFileSync(path.join(REPO, 'config', 'example.yaml'), 'utf8')) as Record<string, unknown>;

/** Every path to a value inside a document, so a mutation can land anywhere. */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [at];
  const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return [at, ...entries.flatMap(([k, x]) => paths(x, [...at, k]))];
}
const examplePaths = paths(example).filter((p) => p.length > 0);

function setAt(doc: unknown, p: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[p[p.length - 1]] = value;
  return copy;
}

describe('config files under hostile input: a clear ConfigError, never a crash', () => {
  it('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), expectCleanOutcome), { seed: SEED, numRuns: 500 });
  });

  it('random YAML documents of any shape', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 4 }), (doc) => expectCleanOutcome(YAML.stringify(doc) ?? "")), { seed: SEED, numRuns: 500 });
  });

  it('the shipped example with one value anywhere replaced by something random', () => {
    expect(() => parseConfig(YAML.stringify(example), opts)).not.toThrow();
    fc.assert(
      fc.property(fc.constantFrom(...examplePaths), fc.anything({ maxDepth: 2 }), (p, value) => {
        expectCleanOutcome(YAML.stringify(setAt(example, p, value)));
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('YAML bombs, deep nesting and huge scalars are refused without exhausting memory', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(() => parseConfig(bomb, opts)).toThrow(ConfigError);
    expect(() => parseConfig(`gateway: ${'['.repeat(5000)}${']'.repeat(5000)}`, opts)).toThrow(ConfigError);
    expect(() => parseConfig(`gateway: { id: "${'x'.repeat(1 << 20)}" }`, opts)).toThrow(ConfigError);
  });
});
