import * as fs from 'node:fs';
import * as path from 'node:path';

function readVersion(): string {
  // Works from both the TypeScript sources (tests) and dist/ (installed), which sit at different depths.
  for (const rel of ['..', '../..']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'edge-agent' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
