/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // scaled by EDGE_TEST_TIME_SCALE like every explicit timeout (test/support/scaled-timeouts.js)
  testTimeout: 30000 * Math.max(1, Number(process.env.EDGE_TEST_TIME_SCALE || '1') || 1),
  setupFilesAfterEnv: ['<rootDir>/test/support/scaled-timeouts.ts'],
  // Real helpers (SQLite files, child processes) are heavy; two workers fit the 2-core gateway-class CI box.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
