import type { AgentConfig, ConfigInput } from '../../agent/config';
import { testConfig } from '../support/test-config';

type Grant = NonNullable<NonNullable<ConfigInput['consent']>['grants']>[number];

/** Two kitchen scales in two profiles: scale-a in home-a, scale-b in home-b. */
export const TWO_SCALES = [
  { id: 'scale-a', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' },
  { id: 'scale-b', transport: 'sim', model: 'kitchen-scale', profile: 'home-b' },
] satisfies ConfigInput['devices'];

/** Tuned for tests: every engagement signal at once, group commits every 2 ms, a storage budget never reached. */
export const TEST_TUNING = {
  engagement: { signalIntervalS: 0 },
  storage: { maxBytes: 1 << 30, groupCommitMs: 2 },
} satisfies Omit<ConfigInput, 'gateway'>;

/** Usage consent for both scales, and the given campaigns (or channels) for both profiles. */
export function bothScalesGrant(campaigns: string[], channels: NonNullable<Grant['channel']>[] = []): Grant[] {
  return [
    { device: 'scale-a', category: 'usage' },
    { device: 'scale-b', category: 'usage' },
    ...campaigns.flatMap((campaign): Grant[] => [{ profile: 'home-a', campaign }, { profile: 'home-b', campaign }]),
    ...channels.flatMap((channel): Grant[] => [{ profile: 'home-a', channel }, { profile: 'home-b', channel }]),
  ];
}

/**
 * The two scales; `coffee` has a constant V, `tea` takes V from upstream. Shared with the fuzz campaign.
 */
export const HOUSEHOLD_SECTIONS = {
  devices: TWO_SCALES,
  campaigns: [
    { id: 'coffee', qualify: { event: 'dispense' }, value: 50, threshold: 1e9, channels: ['push'] },
    { id: 'tea', qualify: { event: 'brew' }, value: { fromUpstream: true }, threshold: 1e9, channels: ['push'] },
  ],
  ...TEST_TUNING,
} satisfies Omit<ConfigInput, 'gateway'>;

/** The household with usage consent for both scales, both on `coffee`, home-a on `tea`. */
export function household(dataDir: string, upstream?: NonNullable<ConfigInput['upstream']>): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-sync',
    ...(upstream ? { upstream: { reconnect: { minMs: 50, maxMs: 300 }, ...upstream } } : {}),
    ...HOUSEHOLD_SECTIONS,
    consent: { grants: [...bothScalesGrant(['coffee']), { profile: 'home-a', campaign: 'tea' }] },
  });
}
