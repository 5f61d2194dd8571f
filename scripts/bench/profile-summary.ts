import * as fs from 'node:fs';
import * as path from 'node:path';

/** The parts of a V8 .cpuprofile (written by `node --cpu-prof`) that a self-time summary needs. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  where: string;
  selfShare: number;
}

/** Where a script URL lives, shortened to what a reader recognises: a package name or a path in this repo. */
function place(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0)
    return url
      .slice(nm + 'node_modules/'.length)
      .split('/')
      .slice(0, url.slice(nm + 13).startsWith('@') ? 2 : 1)
      .join('/');
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

/** Self time per function (share of all samples, idle excluded), and per place (package or file). */
export function summariseProfile(
  file: string,
  top = 15,
): { functions: ProfileRow[]; places: Array<{ where: string; selfShare: number }> } {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++)
    selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const fnTotals = new Map<string, { fn: string; where: string; us: number }>();
  const placeTotals = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') continue;
    total += us;
    const where = place(n.callFrame.url);
    const key = `${name}@${where}:${n.callFrame.lineNumber}`;
    const row = fnTotals.get(key) ?? { fn: name, where: `${where}:${n.callFrame.lineNumber + 1}`, us: 0 };
    row.us += us;
    fnTotals.set(key, row);
    placeTotals.set(where, (placeTotals.get(where) ?? 0) + us);
  }
  const share = (us: number): number => Math.round((us / total) * 1000) / 10;
  return {
    functions: [...fnTotals.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((r) => ({ fn: r.fn, where: r.where, selfShare: share(r.us) })),
    places: [...placeTotals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ where, selfShare: share(us) })),
  };
}

// `node dist/scripts/bench/profile-summary.js <dir or .cpuprofile>`: prints both tables. For a directory, the
// largest profile in it: the main thread's (--cpu-prof also writes one per worker thread, e.g. the checkpointer).
if (require.main === module) {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write('usage: profile-summary <file.cpuprofile | dir>\n');
    process.exit(2);
  }
  const file = fs.statSync(arg).isDirectory()
    ? fs
        .readdirSync(arg)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(arg, f))
        .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
    : arg;
  const s = summariseProfile(file);
  process.stdout.write('self time by function (share of busy samples)\n');
  for (const r of s.functions)
    process.stdout.write(`${r.selfShare.toFixed(1).padStart(5)} %  ${r.fn}  ${r.where}\n`);
  process.stdout.write('\nself time by package / file\n');
  for (const r of s.places) process.stdout.write(`${r.selfShare.toFixed(1).padStart(5)} %  ${r.where}\n`);
}
