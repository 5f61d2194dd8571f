import { buildConfig, type AgentConfig, type ConfigInput } from '../../agent/config';

/**
 * The config a test starts an agent with, built through the same validation as a config file (schema defaults,
 * cross-field checks): a test config cannot say what a file could not. The API on a free port, errors-only logs,
 * and no flood limit a test's burst of thousands of frames in one instant would hit (test/fuzz/flood.test.ts
 * sets its own). `input` replaces whole sections.
 */
export function testConfig(dataDir: string, input: Omit<ConfigInput, 'gateway'> & { id?: string }): AgentConfig {
  const { id = 'gw-test', ...sections } = input;
  return buildConfig({
    api: { listen: '127.0.0.1:0' },
    ingest: { maxFramesPerSecondPerDevice: 1_000_000 },
    log: { level: 'error' },
    ...sections,
    gateway: { id, dataDir },
  });
}
