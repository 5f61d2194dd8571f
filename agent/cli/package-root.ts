import * as fs from 'node:fs';
import * as path from 'node:path';

/** The checkout or installed package root (where package.json names edge-agent), from sources or dist/. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string }).name === 'edge-agent') return dir;
    } catch {
      // keep walking up
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}
