import type { AgentConfig } from '../../config/types';
import { CATEGORIES } from '../../../firmware-bridge/protocol';
import { CHANNELS } from '../../engagement/types';
import { SPECIAL_CATEGORIES, WILDCARD, type ConsentRules } from '../../consent/consent-rules';
import type { DeviceUpdateView } from '../../firmware-update/device-update-view';
import { campaignWords, categoryWords, channelWords } from './plain-language';

/** What the agent knows about a device's link, from its last hello (see DeviceSession). */
export interface PanelDeviceFacts {
  id: string;
  model: string | null;
  connected: boolean;
  lastSeen: number | null;
  /** categories the device declared in its hello */
  categories: string[];
  /** categories of its event channels: what a campaign counting its events uses */
  eventCategories: string[];
}

interface Switch {
  allowed: boolean;
  /** when the decision in force was recorded (ISO), null = never decided (default deny) */
  decidedAt: string | null;
}

export interface PanelCategory extends Switch {
  category: string;
  label: string;
  explanation: string;
  special: boolean;
  /** declared by the device in its hello (false: only known from an earlier decision) */
  declared: boolean;
}

export interface PanelDevice {
  id: string;
  model: string | null;
  profile: string | null;
  connected: boolean;
  lastSeen: string | null;
  /** false until the device's first hello: the categories shown are then every category the agent knows */
  introduced: boolean;
  /** an installer's "every ordinary category" grant is in force (never covers special categories) */
  wildcardGranted: boolean;
  categories: PanelCategory[];
  /** a firmware update for this device (pending, running, done, skipped or failed), with the household's say */
  update: DeviceUpdateView | null;
}

export interface PanelCampaign extends Switch {
  id: string;
  description: string;
  /** the devices of this household whose events it counts, and what categories that data is */
  devices: string[];
  uses: Array<{ category: string; label: string; special: boolean }>;
  channels: string[];
}

export interface PanelChannel extends Switch {
  channel: string;
  label: string;
  explanation: string;
}

export interface PanelHousehold {
  profile: string;
  devices: string[];
  campaigns: PanelCampaign[];
  channels: PanelChannel[];
}

/** GET /panel/api/state: everything the page shows, already in plain language. */
export interface PanelState {
  gateway: { id: string };
  devices: PanelDevice[];
  households: PanelHousehold[];
}

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());

export function panelState(
  cfg: AgentConfig,
  rules: ConsentRules,
  facts: ReadonlyMap<string, PanelDeviceFacts>,
  updates: (device: string) => DeviceUpdateView | null = () => null,
): PanelState {
  const decided = (scope: 'device' | 'campaign' | 'channel', subject: string, target: string): string | null =>
    iso(rules.decision(scope, subject, target)?.at);
  const devices = cfg.devices.map((d): PanelDevice => {
    const f = facts.get(d.id);
    const known = new Set(f?.categories ?? []);
    for (const e of rules.entries()) if (e.scope === 'device' && e.subject === d.id && e.target !== WILDCARD) known.add(e.target);
    const introduced = (f?.categories.length ?? 0) > 0;
    const shown = introduced || known.size > 0 ? CATEGORIES.filter((c) => known.has(c)) : [...CATEGORIES];
    return {
      id: d.id,
      model: f?.model ?? (d.transport === 'sim' ? d.model : null),
      profile: d.profile ?? null,
      connected: f?.connected ?? false,
      lastSeen: iso(f?.lastSeen),
      introduced,
      wildcardGranted: rules.decision('device', d.id, WILDCARD)?.granted === true,
      categories: shown.map((c) => ({
        category: c,
        ...categoryWords(c),
        special: SPECIAL_CATEGORIES.has(c),
        declared: f?.categories.includes(c) ?? false,
        allowed: rules.deviceAllows(d.id, c),
        decidedAt: decided('device', d.id, c) ?? decided('device', d.id, WILDCARD),
      })),
      update: updates(d.id),
    };
  });
  const profiles = [...new Set(cfg.devices.map((d) => d.profile).filter((p): p is string => !!p))];
  const households = profiles.map((profile): PanelHousehold => {
    const mine = cfg.devices.filter((d) => d.profile === profile).map((d) => d.id);
    return {
      profile,
      devices: mine,
      campaigns: cfg.campaigns.map((c): PanelCampaign => {
        const counted = c.qualify.devices ? mine.filter((id) => c.qualify.devices!.includes(id)) : mine;
        const cats = [...new Set(counted.flatMap((id) => facts.get(id)?.eventCategories ?? []))];
        return {
          id: c.id,
          description: campaignWords({ event: c.qualify.event, devices: counted, threshold: c.threshold, cooldownMs: c.cooldownMs, channels: c.channels }),
          devices: counted,
          uses: cats.map((cat) => ({ category: cat, label: categoryWords(cat).label, special: SPECIAL_CATEGORIES.has(cat) })),
          channels: [...c.channels],
          allowed: rules.campaignAllows(profile, c.id),
          decidedAt: decided('campaign', profile, c.id),
        };
      }),
      channels: CHANNELS.map((ch) => ({
        channel: ch,
        ...channelWords(ch),
        allowed: rules.channelAllows(profile, ch),
        decidedAt: decided('channel', profile, ch),
      })),
    };
  });
  return { gateway: { id: cfg.gateway.id }, devices, households };
}
