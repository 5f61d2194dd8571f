import type { AgentConfig } from '../config/types';
import type { ConsentLedger } from '../consent/consent-ledger';
import { receiptOf } from '../consent/consent-receipt';
import type { ConsentService } from '../consent/consent-service';
import { ConsentTargetError, consentTarget } from '../consent/consent-target';
import type { ApiResponse, ApiRoutes } from './http-api';

interface ChangeBody {
  device?: unknown;
  category?: unknown;
  profile?: unknown;
  campaign?: unknown;
  channel?: unknown;
  granted?: unknown;
  erase?: unknown;
  source?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The consent endpoints of the local API; used by `edge-agent consent …` and the household panel. */
export function consentRoutes(deps: {
  config: AgentConfig;
  ledger: ConsentLedger;
  consent: ConsentService;
  clock: () => number;
}): Pick<ApiRoutes, 'consent' | 'consentLedger' | 'consentChange'> {
  return {
    consent: () => ({ entries: deps.ledger.rules.entries(), ledger: deps.ledger.verify() }),
    consentLedger: () => ({
      verify: deps.ledger.verify(),
      receipts: deps.ledger.entries().map((e) => receiptOf(e, deps.config.gateway.id)),
    }),
    consentChange: (raw: unknown): ApiResponse => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { status: 400, body: { error: 'body must be a JSON object' } };
      const b = raw as ChangeBody;
      if (typeof b.granted !== 'boolean') return { status: 400, body: { error: '"granted" must be true or false' } };
      if (b.erase !== undefined && typeof b.erase !== 'boolean') return { status: 400, body: { error: '"erase" must be a boolean' } };
      const source = b.source === undefined ? 'cli' : b.source;
      if (source !== 'cli' && source !== 'panel') return { status: 400, body: { error: '"source" must be "cli" or "panel"' } };
      let t;
      try {
        t = consentTarget(
          { device: str(b.device), category: str(b.category), profile: str(b.profile), campaign: str(b.campaign), channel: str(b.channel) },
          deps.config,
        );
      } catch (err) {
        if (err instanceof ConsentTargetError) return { status: 400, body: { error: err.message } };
        throw err;
      }
      const started = process.hrtime.bigint();
      const r = deps.consent.change({ ...t, granted: b.granted, source, erase: b.erase === true }, deps.clock());
      const tookMs = Number(process.hrtime.bigint() - started) / 1e6;
      return {
        status: 200,
        body: { applied: r.applied, entry: r.entry, purged: r.purged, effectiveInMs: Number(tookMs.toFixed(3)) },
      };
    },
  };
}
