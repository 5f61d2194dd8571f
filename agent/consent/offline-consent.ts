import { openDatabase, databasePath, type Db } from '../store/database';
import { EngagementStore } from '../store/engagement-store';
import { IngestStore } from '../store/ingest-store';
import { OutboxStore } from '../store/outbox-store';
import type { AgentConfig } from '../config/types';
import { EventBus } from '../event-bus';
import { ConsentLedger } from './consent-ledger';
import { ConsentService, type ConsentRequest, type ConsentResult } from './consent-service';

/** The (profile, campaign) scopes whose signals can carry a device's data. */
export function signalsOfDevice(cfg: AgentConfig, device: string): Array<{ profile: string; campaign: string }> {
  const profile = cfg.devices.find((d) => d.id === device)?.profile;
  if (!profile) return [];
  return cfg.campaigns.filter((c) => !c.qualify.devices || c.qualify.devices.includes(device)).map((c) => ({ profile, campaign: c.id }));
}

/**
 * Consent changes while the agent is not running (a technician at a gateway whose service is stopped):
 * the same ledger, erasure and receipt path, applied straight to the SQLite file. The agent replays the
 * ledger when it starts, so the change holds from its first frame.
 */
export function changeConsentOffline(cfg: AgentConfig, req: ConsentRequest): ConsentResult {
  const db: Db = openDatabase(databasePath(cfg.gateway.dataDir));
  try {
    const ledger = new ConsentLedger(db);
    ledger.load();
    const engagement = new EngagementStore(db);
    const ingest = new IngestStore(db);
    const outbox = new OutboxStore(db);
    const service = new ConsentService(
      db,
      ledger,
      outbox,
      new EventBus(),
      {
        beforeChange: () => undefined,
        purgeEngagement: (f) => {
          const where: string[] = [];
          const args: string[] = [];
          for (const k of ['profile', 'campaign', 'device', 'category'] as const) {
            if (f[k] !== undefined) {
              where.push(`${k} = ?`);
              args.push(f[k] as string);
            }
          }
          const n = (db.prepare(`SELECT count(*) AS n FROM engagement_events WHERE ${where.join(' AND ')}`).get(...args) as { n: number }).n;
          engagement.apply([{ op: 'purge', ...f }]);
          return n;
        },
        eraseRaw: (device, category) => ingest.eraseDevice(device, category),
        purgeSignalsOfDevice: (device) => signalsOfDevice(cfg, device).reduce((n, scope) => n + outbox.purge(scope), 0),
        deviceConsentChanged: () => undefined, // told at the device's next hello
      },
      { gatewayId: cfg.gateway.id, policyVersion: cfg.consent.policyVersion, deviceButtonMayGrant: cfg.consent.deviceButtonMayGrant },
    );
    return service.change(req);
  } finally {
    db.close();
  }
}

/** Opens the ledger read-only for show/verify/export (safe while the agent runs: WAL readers do not block). */
export function withLedger<T>(cfg: AgentConfig, fn: (ledger: ConsentLedger) => T): T {
  const db = openDatabase(databasePath(cfg.gateway.dataDir), { readonly: true });
  try {
    const ledger = new ConsentLedger(db);
    ledger.load();
    return fn(ledger);
  } finally {
    db.close();
  }
}
