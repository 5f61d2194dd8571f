#!/usr/bin/env node
// `npm run test:slow [-- jest args]`: the test suite on a slow machine, reproducibly (issue #24). Jest and every
// process it starts run on one CPU (taskset -c 0) that a busy loop competes for, so the suite gets about half a
// core — slower than a Pi Zero 2 W's four cores for anything single-threaded. EDGE_TEST_TIME_SCALE=3 gives every
// wait on a condition three times as long to give up (test/support/time-scale.ts); nothing sleeps longer.
// Plain CommonJS: it runs before anything is built.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
if (spawnSync('which', ['taskset']).status !== 0) {
  process.stderr.write('test:slow: needs taskset (util-linux)\n');
  process.exit(2);
}
const cpu = process.env.EDGE_SLOW_CPU ?? '0';
// The competitor: a busy loop on the same CPU, at normal priority.
const busy = spawn('taskset', ['-c', cpu, process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });
const jest = spawn('taskset', ['-c', cpu, process.execPath, path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, EDGE_TEST_TIME_SCALE: process.env.EDGE_TEST_TIME_SCALE ?? '3' },
});
const stop = () => busy.kill('SIGKILL');
jest.on('exit', (code, signal) => {
  stop();
  process.exit(code ?? (signal ? 1 : 0));
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (jest.kill(sig), stop()));
