import type { AgentConfig, ConfigInput } from '../../agent/config';
import { testConfig } from '../support/test-config';

/** One wearable (health, a special category) in profile home-a and one campaign; no grants unless patched in. */
export function cfg(dataDir: string, patch: NonNullable<ConfigInput['consent']> = {}): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw',
    devices: [{ id: 'wear-1', transport: 'sim', model: 'wearable', profile: 'home-a' }],
    campaigns: [{ id: 'c', qualify: { event: 'button' }, value: 50, threshold: 10, channels: ['push'] }],
    engagement: { signalIntervalS: 0 },
    storage: { maxBytes: 1 << 28, groupCommitMs: 2 },
    consent: patch,
  });
}
