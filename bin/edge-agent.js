#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled TypeScript in dist/.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'agent', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('edge-agent: not built yet — run `npm run build` (or `npm start`, which builds) in ' + path.dirname(__dirname) + '\n');
  process.exit(1);
}
// EDGE_V8_FLAGS: V8 flags that NODE_OPTIONS refuses (the unit sets --no-opt: docs/performance.md), applied
// before any of the agent's code is compiled. Process-wide: worker threads get them too.
if (process.env.EDGE_V8_FLAGS) require('node:v8').setFlagsFromString(process.env.EDGE_V8_FLAGS);
// NODE_COMPILE_CACHE (the systemd unit sets it): Node >= 22.1 keeps a V8 code cache there by itself; on older Node
// the agent's own implementation does the same for the modules loaded from here on (cold start, issue #24).
if (process.env.NODE_COMPILE_CACHE && typeof require('node:module').enableCompileCache !== 'function') {
  require(path.join(__dirname, '..', 'dist', 'agent', 'compile-cache.js')).enableCompileCache(process.env.NODE_COMPILE_CACHE);
}
require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`edge-agent: ${err && err.message ? err.message : err}\n`); process.exitCode = 1; },
);
