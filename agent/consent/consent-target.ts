import type { AgentConfig } from '../config/types';
import type { ConsentScope } from './consent-rules';
import { CATEGORIES } from '../../firmware-bridge/protocol';
import { CHANNELS } from '../engagement/types';



export interface ConsentTarget {
  scope: ConsentScope;
  subject: string;
  target: string;
}

export class ConsentTargetError extends Error {}

const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : '(none configured)');

/**
 * Turns `--device D --category C`, `--profile P --campaign C` or `--profile P --channel CH` into a consent
 * target, checked against the config so a typo never lands in the ledger.
 */
export function consentTarget(
  o: { device?: string; category?: string; profile?: string; campaign?: string; channel?: string },
  cfg: AgentConfig,
): ConsentTarget {
  const devices = cfg.devices.map((d) => d.id);
  const profiles = [...new Set(cfg.devices.map((d) => d.profile).filter((p): p is string => !!p))];
  const campaigns = cfg.campaigns.map((c) => c.id);
  if (o.device !== undefined || o.category !== undefined) {
    if (o.profile !== undefined || o.campaign !== undefined || o.channel !== undefined) {
      throw new ConsentTargetError('use either --device with --category, or --profile with --campaign or --channel');
    }
    if (o.device === undefined) throw new ConsentTargetError('--category needs --device');
    if (o.category === undefined) throw new ConsentTargetError(`--device needs --category (one of ${CATEGORIES.join(', ')}, or "*")`);
    if (!devices.includes(o.device)) throw new ConsentTargetError(`unknown device "${o.device}" — configured devices: ${list(devices)}`);
    if (o.category !== '*' && !(CATEGORIES as readonly string[]).includes(o.category)) {
      throw new ConsentTargetError(`unknown category "${o.category}" — use one of ${CATEGORIES.join(', ')}, or "*" (never covers health/biometric)`);
    }
    return { scope: 'device', subject: o.device, target: o.category };
  }
  if (o.profile === undefined) {
    throw new ConsentTargetError('say what the consent is for: --device D --category C, --profile P --campaign C, or --profile P --channel CH');
  }
  if (!profiles.includes(o.profile)) throw new ConsentTargetError(`unknown profile "${o.profile}" — profiles in the config: ${list(profiles)}`);
  if ((o.campaign === undefined) === (o.channel === undefined)) {
    throw new ConsentTargetError('--profile needs exactly one of --campaign or --channel');
  }
  if (o.campaign !== undefined) {
    if (!campaigns.includes(o.campaign)) throw new ConsentTargetError(`unknown campaign "${o.campaign}" — configured campaigns: ${list(campaigns)}`);
    return { scope: 'campaign', subject: o.profile, target: o.campaign };
  }
  if (!(CHANNELS as readonly string[]).includes(o.channel!)) {
    throw new ConsentTargetError(`unknown channel "${o.channel}" — use one of ${CHANNELS.join(', ')}`);
  }
  return { scope: 'channel', subject: o.profile, target: o.channel! };
}
