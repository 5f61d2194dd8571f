import type { ConsentLedger } from '../consent/consent-ledger';
import type { ConsentService } from '../consent/consent-service';
import { HttpApi } from '../api/http-api';
import { ensureApiToken } from '../api/api-token';
import { consentRoutes } from '../api/consent-routes';
import { deviceRoutes } from '../api/device-routes';
import { HouseholdPanel, PanelLanListener, deviceFacts, ensurePairingCode } from '../api/panel';
import type { SyncDocument } from '../api/status';
import type { OutboxPublisher } from '../sync/outbox-publisher';
import type { Part } from '../part';
import type { BaseContext } from './context';
import type { DevicesContext } from './devices-part';
import type { StoreContext } from './store-part';

type In = BaseContext & StoreContext & DevicesContext & { ledger: ConsentLedger; consent: ConsentService; publisher: OutboxPublisher | null };

export interface ApiContext {
  api: HttpApi;
  /** the household privacy panel, unless `api.panel.enabled: false` */
  panel: HouseholdPanel | null;
}

/** What `POST /api/reload` answers with: the runner's verdict on the config file, and when this agent started. */
export interface ReloadHook {
  reload: (() => { ok: true } | { ok: false; error: string }) | undefined;
  startedAt: number;
}

/** The local HTTP API (DESIGN §9) and the household panel it serves (docs/panel.md). */
export class ApiPart implements Part<In, ApiContext> {
  readonly name = 'api';
  private api: HttpApi | null = null;
  private panel: HouseholdPanel | null = null;

  constructor(private readonly hook: ReloadHook) {}

  async start({ config, logger, clock, bus, status, outbox, ledger, consent, devices, commander, publisher }: In): Promise<ApiContext> {
    const token = ensureApiToken(config.gateway.dataDir);
    const consentApi = consentRoutes({ config, ledger, consent, clock });
    // The household panel changes consent through the same route as the CLI (docs/panel.md).
    const panel =
      !config.api.panel.enabled
        ? null
        : new HouseholdPanel({ config, ledger, consentChange: consentApi.consentChange, devices: () => deviceFacts(devices.sessions.values()), bus, clock });
    this.panel = panel;
    const syncDocument = (): SyncDocument => {
      const st = status.document(clock());
      const up = config.upstream;
      return {
        configured: up !== undefined,
        upstream: st.upstream,
        outbox: { ...st.outbox, byKind: outbox.byKind() },
        storage: st.storage,
        batch: up ? { ...up.batch, maxPayloadBytes: up.maxPayloadBytes } : null,
      };
    };
    const { reload, startedAt } = this.hook;
    const api = new HttpApi(
      { listen: config.api.listen, token, allowedHosts: config.api.panel.allowedHosts, ...(panel ? { panel } : {}) },
      {
        status: () => status.document(clock()),
        ...consentApi,
        ...deviceRoutes({ config, commander }),
        sync: syncDocument,
        reload: () => {
          if (!reload) return { status: 409, body: { error: 'this agent was not started by `edge-agent run`: restart it instead' } };
          const r = reload();
          return r.ok ? { status: 200, body: { reloading: true, startedAt: new Date(startedAt).toISOString() } } : { status: 400, body: { error: r.error } };
        },
        syncFlush: async (body) => {
          const t = (body as { timeoutMs?: unknown } | null)?.timeoutMs;
          const timeoutMs = typeof t === 'number' && t > 0 && t <= 600_000 ? t : 30_000;
          if (!publisher) return { status: 409, body: { error: 'no upstream configured (add upstream: to the config)' } };
          const started = Date.now();
          const r = await publisher.flushNow(timeoutMs);
          return { status: 200, body: { ...r, tookMs: Date.now() - started, sync: syncDocument() } };
        },
      },
    );
    this.api = api;
    await api.start();
    if (panel) {
      ensurePairingCode(config.gateway.dataDir); // made now, so `edge-agent panel` can show it
      panel.start();
      // The pairing code is a credential: never in the log (journald is readable by more people than the household).
      logger.info('household privacy panel: `edge-agent panel` shows its pairing code', {
        urls: [`http://${api.address() ?? config.api.listen}/panel/`],
        lan: config.api.panel.lanListen !== undefined,
      });
    }
    return { api, panel };
  }

  async stop(): Promise<void> {
    this.panel?.stop();
    this.panel = null;
    await this.api?.stop();
    this.api = null;
  }
}

/** LAN mode (`api.panel.lanListen`): a second listener serving only the panel, for phones on the home network. */
export class PanelLanPart implements Part<BaseContext & { panel: HouseholdPanel }, { panelLan: PanelLanListener }> {
  readonly name = 'panel-lan';
  private lan: PanelLanListener | null = null;

  constructor(private readonly listen: string) {}

  async start({ logger, panel }: BaseContext & { panel: HouseholdPanel }): Promise<{ panelLan: PanelLanListener }> {
    const lan = new PanelLanListener(this.listen, panel);
    this.lan = lan;
    await lan.start();
    logger.info('household privacy panel on the home network', { url: `http://${lan.address() ?? this.listen}/panel/` });
    return { panelLan: lan };
  }

  async stop(): Promise<void> {
    await this.lan?.stop();
    this.lan = null;
  }
}
