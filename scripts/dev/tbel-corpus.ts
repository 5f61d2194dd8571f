/**
 * Measures the TBEL engine against ThingsBoard's published converters (github.com/thingsboard/data-converters):
 * for every uplink converter and every (payload*.json, result*.json) pair, runs the decoder as ThingsBoard's own
 * validator does (the payload is the JSON text Python's json.dumps writes, metadata from metadata.json) and
 * compares the output with result*.json as that validator does (parsed JSON, numbers by value). Nothing of the
 * corpus is kept: it is read from a checkout given on the command line or in TB_CONVERTERS.
 *
 *   node dist/scripts/dev/tbel-corpus.js [path/to/data-converters] [--lang tbel|js|all] [--show N] [--only substring]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScriptHost, readConverterExport, type ScriptLanguage } from '../../agent/sandbox';

interface Pair {
  dir: string;
  payload: string;
  result: string;
}

/** Python's json.dumps with its defaults (", " and ": " separators, ASCII only): the bytes ThingsBoard got. */
function pythonJsonDumps(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : pythonFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(x)}`)
    .join(', ')}}`;
}
const pythonFloat = (n: number): string => {
  const s = String(n);
  return /[.e]/.test(s) ? s.replace(/e([+-])(\d)$/, 'e$10$2') : `${s}.0`;
};

/** Python's == on parsed JSON: numbers by value (1 == 1.0, and True == 1), dicts without order. */
function pyEqual(a: unknown, b: unknown): boolean {
  const num = (x: unknown): number | null => (typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : null);
  if (num(a) !== null && num(b) !== null) return num(a) === num(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => pyEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && pyEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function pairsIn(dir: string): Pair[] {
  const files = fs.readdirSync(dir);
  const out: Pair[] = [];
  for (const f of files) {
    const m = /^payload(_\d+)?\.json$/.exec(f);
    if (m && files.includes(`result${m[1] ?? ''}.json`)) out.push({ dir, payload: f, result: `result${m[1] ?? ''}.json` });
  }
  return out;
}

function uplinkDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.name === 'uplink' && fs.existsSync(path.join(p, 'converter.json'))) out.push(p);
      else walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** The first difference between two JSON values, as a path and both sides (for the failure report). */
function firstDifference(a: unknown, b: unknown, at = '$'): string {
  if (pyEqual(a, b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
  }
  const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v).slice(0, 120));
  return `${at}: got ${show(a)}, ThingsBoard ${show(b)}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv.splice(i, 2)[1] : undefined;
  };
  const langArg = (flag('--lang') ?? 'tbel').toLowerCase();
  const show = Number(flag('--show') ?? '40');
  const only = flag('--only');
  const root = argv[0] ?? process.env.TB_CONVERTERS;
  if (!root || !fs.existsSync(root)) {
    process.stderr.write('usage: tbel-corpus.js <data-converters checkout> (or TB_CONVERTERS=...) [--lang tbel|js|all] [--show N] [--only text]\n');
    process.exit(2);
  }
  const host = new ScriptHost({ limits: { timeoutMs: 2000 } });
  let total = 0;
  let passed = 0;
  const failures: Array<{ where: string; why: string }> = [];
  const byLang: Record<string, { total: number; passed: number }> = {};
  for (const dir of uplinkDirs(root)) {
    if (only && !dir.includes(only)) continue;
    let conv: { language: ScriptLanguage; source: string };
    try {
      conv = readConverterExport(fs.readFileSync(path.join(dir, 'converter.json'), 'utf8'));
    } catch {
      continue;
    }
    if (langArg !== 'all' && conv.language !== langArg) continue;
    const pairs = pairsIn(dir);
    if (pairs.length === 0) continue;
    const rel = path.relative(root, dir);
    const metadataFile = path.join(dir, 'metadata.json');
    const metadata: unknown = fs.existsSync(metadataFile) ? JSON.parse(fs.readFileSync(metadataFile, 'utf8')) : {};
    const id = rel;
    const compileError = await host.add({ id, kind: 'decoder', source: conv.source, language: conv.language });
    const stats = (byLang[conv.language] ??= { total: 0, passed: 0 });
    for (const p of pairs) {
      total++;
      stats.total++;
      const where = `${rel}/${p.payload}`;
      if (compileError) {
        failures.push({ where, why: `compile: ${compileError.message}` });
        continue;
      }
      let expected: unknown;
      let payload: unknown;
      try {
        expected = JSON.parse(fs.readFileSync(path.join(dir, p.result), 'utf8'));
        payload = JSON.parse(fs.readFileSync(path.join(dir, p.payload), 'utf8'));
      } catch (err) {
        failures.push({ where, why: `corpus file is not JSON: ${(err as Error).message}` });
        continue;
      }
      const bytes = [...Buffer.from(pythonJsonDumps(payload), 'utf8')];
      const run = host.run(id, [bytes, metadata], (v) => ({ ok: true, value: v }));
      if (!run.ok) {
        failures.push({ where, why: `${run.error.kind}: ${run.error.detail}` });
        continue;
      }
      // The validator compares json.loads(output): what the result is as JSON.
      const got = run.value === undefined ? null : (JSON.parse(JSON.stringify(run.value)) as unknown);
      if (pyEqual(got, expected)) {
        passed++;
        stats.passed++;
      } else failures.push({ where, why: `differs: ${firstDifference(got, expected)}` });
    }
    host.stop();
  }
  const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)} %`);
  for (const f of failures.slice(0, show)) process.stdout.write(`FAIL ${f.where}\n     ${f.why}\n`);
  for (const [lang, s] of Object.entries(byLang)) process.stdout.write(`${lang}: ${s.passed}/${s.total} pairs match (${pct(s.passed, s.total)})\n`);
  process.stdout.write(`total: ${passed}/${total} pairs match ThingsBoard's result (${pct(passed, total)}), ${failures.length} fail\n`);
}

void main();
