import type { AgentConfig } from '../../agent/config';

/** One wearable (health, a special category) in profile home-a and one campaign; no grants unless patched in. */
export function cfg(dataDir: string, patch: Partial<AgentConfig['consent']> = {}): AgentConfig {
  return {
    gateway: { id: 'gw', dataDir },
    api: { listen: '127.0.0.1:0' },
    devices: [{ id: 'wear-1', transport: 'sim', model: 'wearable', profile: 'home-a' }],
    campaigns: [{ id: 'c', qualify: { event: 'button' }, value: { kind: 'constant', v: 50 }, threshold: 10, cooldownMs: 0, channels: ['push'] }],
    engagement: { windowDays: 30, recencyFloorDays: 1, recencyScale: 100, signalIntervalS: 0 },
    storage: { maxBytes: 1 << 28, rawRetentionDays: 30, groupCommitMs: 2, groupCommitRows: 500 },
    consent: { policyVersion: 1, requirePolicy: {}, deviceButtonMayGrant: [], grants: [], ...patch },
    log: { level: 'error' },
  };
}
