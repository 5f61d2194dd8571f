#!/usr/bin/env node
// Pre-step for `npm start`, `npm test` and `npm run bench` on a fresh clone of a fresh machine:
// installs dependencies if missing, makes sure the native SQLite binding loads, and builds dist/ when sources changed.
// Plain CommonJS with no dependencies, because it runs before anything is installed.
'use strict';
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const quiet = process.argv.includes('--quiet');
const log = (m) => { if (!quiet) process.stderr.write(`setup: ${m}\n`); };
const run = (cmd) => execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  process.stderr.write(`setup: Node ${process.versions.node} is too old — edge-agent needs Node >= 20 (install it from your distribution or nodesource).\n`);
  process.exit(1);
}

function newestMtime(dir, exts) {
  let newest = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries;
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (exts.some((x) => e.name.endsWith(x))) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  }
  return newest;
}

const lock = path.join(root, 'package-lock.json');
const installedMarker = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installedMarker) || fs.statSync(lock).mtimeMs > fs.statSync(installedMarker).mtimeMs + 1000) {
  log('installing dependencies (npm ci) …');
  run('npm ci --no-audit --no-fund');
}

try {
  execSync(`node -e "new (require('better-sqlite3'))(':memory:').close()"`, { cwd: root, stdio: 'ignore' });
} catch {
  log('better-sqlite3 native module missing — building it from source (about a minute) …');
  run('npm rebuild better-sqlite3');
}

const built = path.join(root, 'dist', 'agent', 'cli', 'main.js');
const srcNewest = Math.max(
  ...['agent', 'drivers', 'firmware-bridge', 'scripts'].map((d) => newestMtime(path.join(root, d), ['.ts', '.json'])),
  fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs,
);
if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < srcNewest || process.argv.includes('--build')) {
  log('building (tsc) …');
  run('npx tsc -p tsconfig.build.json');
  fs.utimesSync(built, new Date(), new Date());
}
