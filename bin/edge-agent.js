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
require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`edge-agent: ${err && err.message ? err.message : err}\n`); process.exitCode = 1; },
);
