import type { ConsentLedger } from '../consent/consent-ledger';
import { ConsentService, type ConsentRequest } from '../consent/consent-service';
import { signalsOfDevice } from '../consent/offline-consent';
import { optOutByDeviceType } from '../consent/opt-out';
import type { AgentConfig } from '../config';
import type { OutcomeService } from '../outcomes';
import type { Part } from '../part';
import type { BaseContext } from './context';
import type { DevicesContext } from './devices-part';
import type { EngagementContext } from './engagement-part';
import type { StoreContext } from './store-part';

type In = BaseContext & StoreContext & DevicesContext & EngagementContext & { ledger: ConsentLedger; outcomes: OutcomeService };

/**
 * Consent changes from every source (CLI, panel, device button, upstream) and the erasure that goes with a
 * withdrawal, across every part holding consent-scoped data; then the grants written in the config.
 */
export class ConsentPart implements Part<In, { consent: ConsentService }> {
  readonly name = 'consent';

  async start(ctx: In): Promise<{ consent: ConsentService }> {
    const { config, logger, bus, status, db, committer, outbox, ingestStore, ledger, engagement, outcomes, devices, links, deviceType } = ctx;
    const consent: ConsentService = new ConsentService(
      db,
      ledger,
      outbox,
      bus,
      {
        beforeChange: () => committer.flush(),
        // outcome history (purchases, presence, triggers) is erased with the same scope as engagement state
        purgeEngagement: (f) => outcomes.purge(f) + engagement.purge(f),
        eraseRaw: (device, category) => ingestStore.eraseDevice(device, category),
        purgeSignalsOfDevice: (device) => signalsOfDevice(config, device).reduce((n, scope) => n + outbox.purge(scope), 0),
        // the device stops sampling what was withdrawn: its consent state (0x83) is pushed at once
        deviceConsentChanged: (device) => {
          const s = devices.sessions.get(device);
          if (!s || !s.connected) return;
          links.send(device, { type: 'consent-state', seq: devices.nextSeq(device), body: { cats: consent.stateFor(device, s.categories()) } });
        },
      },
      { gatewayId: config.gateway.id, policyVersion: config.consent.policyVersion, deviceButtonMayGrant: config.consent.deviceButtonMayGrant },
    );
    const seeded = consent.seed(grantsFromConfig(config));
    if (seeded > 0) logger.info('consent grants from config recorded in the ledger', { grants: seeded });
    status.set('consent', () => ({
      optOutByDeviceType: optOutByDeviceType([...devices.sessions.values()].map((s) => ({ id: s.id, type: deviceType(s.id) })), ledger.rules),
      ledgerEntries: ledger.length,
    }));
    return { consent };
  }

  async stop(): Promise<void> {}
}

/** Config `consent.grants` → ledger requests (recorded as given by the installing technician, source `cli`). */
function grantsFromConfig(cfg: AgentConfig): ConsentRequest[] {
  const policyVersion = cfg.consent.policyVersion;
  return cfg.consent.grants.map((g): ConsentRequest => {
    if ('device' in g) return { scope: 'device', subject: g.device, target: g.category, granted: true, source: 'cli', policyVersion };
    if ('campaign' in g) return { scope: 'campaign', subject: g.profile, target: g.campaign, granted: true, source: 'cli', policyVersion };
    return { scope: 'channel', subject: g.profile, target: g.channel, granted: true, source: 'cli', policyVersion };
  });
}
