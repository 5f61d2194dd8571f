import { upstreamWithDefaults, type AgentConfig, type UpstreamConfig } from '../../agent/config';

/** Two kitchen scales in two profiles; `coffee` has a constant V, `tea` takes V from upstream. */
export function household(dataDir: string, upstream?: Partial<UpstreamConfig> & { url: string }): AgentConfig {
  return {
    gateway: { id: 'gw-sync', dataDir },
    api: { listen: '127.0.0.1:0' },
    ...(upstream ? { upstream: upstreamWithDefaults({ reconnect: { minMs: 50, maxMs: 300 }, ...upstream }) } : {}),
    devices: [
      { id: 'scale-a', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' },
      { id: 'scale-b', transport: 'sim', model: 'kitchen-scale', profile: 'home-b' },
    ],
    campaigns: [
      { id: 'coffee', qualify: { event: 'dispense' }, value: { kind: 'constant', v: 50 }, threshold: 1e9, cooldownMs: 0, channels: ['push'] },
      { id: 'tea', qualify: { event: 'brew' }, value: { kind: 'upstream' }, threshold: 1e9, cooldownMs: 0, channels: ['push'] },
    ],
    engagement: { windowDays: 30, recencyFloorDays: 1, recencyScale: 100, signalIntervalS: 0 },
    storage: { maxBytes: 1 << 30, rawRetentionDays: 30, groupCommitMs: 2, groupCommitRows: 500 },
    consent: {
      policyVersion: 1,
      requirePolicy: {},
      deviceButtonMayGrant: [],
      grants: [
        { device: 'scale-a', category: 'usage' },
        { device: 'scale-b', category: 'usage' },
        { profile: 'home-a', campaign: 'coffee' },
        { profile: 'home-b', campaign: 'coffee' },
        { profile: 'home-a', campaign: 'tea' },
      ],
    },
    log: { level: 'error' },
  };
}

