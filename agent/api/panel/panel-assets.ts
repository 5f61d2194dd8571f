import * as fs from 'node:fs';
import * as path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page's files (plain HTML/CSS/ES modules, no build step) live next to this module in the sources. The
 * compiled module in dist/ has no copy: it finds them by walking up to the package root, where the sources
 * ship with the package.
 */
export function panelAssetsDir(from = __dirname): string {
  const candidates = [path.join(from, 'assets')];
  let dir = from;
  for (let i = 0; i < 6; i++) {
    dir = path.dirname(dir);
    candidates.push(path.join(dir, 'agent', 'api', 'panel', 'assets'));
  }
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'index.html')));
  if (!found) throw new Error(`household panel files not found (looked for agent/api/panel/assets/index.html from ${from})`);
  return found;
}

export interface PanelAsset {
  type: string;
  body: Buffer;
}

/**
 * The files read once at start and served by exact name only: a request path is looked up in this map, never
 * joined to a directory, so no path can reach outside it.
 */
export function loadPanelAssets(dir = panelAssetsDir()): Map<string, PanelAsset> {
  const assets = new Map<string, PanelAsset>();
  for (const name of fs.readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type || !fs.statSync(path.join(dir, name)).isFile()) continue;
    assets.set(name, { type, body: fs.readFileSync(path.join(dir, name)) });
  }
  return assets;
}
