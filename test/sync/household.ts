import type { AgentConfig, ConfigInput } from '../../agent/config';
import { testConfig } from '../support/test-config';

/**
 * Two kitchen scales in two profiles; `coffee` has a constant V, `tea` takes V from upstream. Storage and
 * engagement tuned for tests (every signal at once, group commits every 2 ms). Shared with the fuzz campaign.
 */
export const HOUSEHOLD_SECTIONS = {
  devices: [
    { id: 'scale-a', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' },
    { id: 'scale-b', transport: 'sim', model: 'kitchen-scale', profile: 'home-b' },
  ],
  campaigns: [
    { id: 'coffee', qualify: { event: 'dispense' }, value: 50, threshold: 1e9, channels: ['push'] },
    { id: 'tea', qualify: { event: 'brew' }, value: { fromUpstream: true }, threshold: 1e9, channels: ['push'] },
  ],
  engagement: { signalIntervalS: 0 },
  storage: { maxBytes: 1 << 30, groupCommitMs: 2 },
} satisfies Omit<ConfigInput, 'gateway'>;

/** The household with usage consent for both scales, both on `coffee`, home-a on `tea`. */
export function household(dataDir: string, upstream?: NonNullable<ConfigInput['upstream']>): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-sync',
    ...(upstream ? { upstream: { reconnect: { minMs: 50, maxMs: 300 }, ...upstream } } : {}),
    ...HOUSEHOLD_SECTIONS,
    consent: {
      grants: [
        { device: 'scale-a', category: 'usage' },
        { device: 'scale-b', category: 'usage' },
        { profile: 'home-a', campaign: 'coffee' },
        { profile: 'home-b', campaign: 'coffee' },
        { profile: 'home-a', campaign: 'tea' },
      ],
    },
  });
}
