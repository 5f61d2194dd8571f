import type { LedgerEntry } from './consent-ledger';
import { SPECIAL_CATEGORIES, WILDCARD } from './consent-rules';

/**
 * A consent receipt for one ledger entry, with the fields of the Kantara Initiative Consent Receipt and
 * ISO/IEC TS 27560 that apply to a household gateway. It is what `consent export` prints and what is synced
 * upstream on the consent topic.
 */
export interface ConsentReceipt {
  receiptVersion: 'edge-agent-cr-1';
  receiptId: string;
  sequence: number;
  consentTimestamp: string;
  piiController: { gateway: string };
  piiPrincipal: { kind: 'device' | 'profile'; id: string };
  collectionMethod: 'cli' | 'panel' | 'device' | 'upstream';
  layer: 'device' | 'campaign' | 'channel';
  purpose: string;
  piiCategory: string | null;
  sensitive: boolean;
  state: 'granted' | 'withdrawn';
  policyVersion: number;
  erased: { queuedSignals: number; engagementEvents: number; rawRows: number };
  integrity: { hash: string; prevHash: string; algorithm: 'sha256-chain' };
}

function purpose(e: LedgerEntry): string {
  if (e.scope === 'device') {
    return e.target === WILDCARD
      ? `device ${e.subject} may collect data of every non-special category`
      : `device ${e.subject} may collect ${e.target} data`;
  }
  if (e.scope === 'campaign') return `household profile ${e.subject} may be included in campaign ${e.target}`;
  return `household profile ${e.subject} may be contacted by ${e.target}`;
}

export function receiptOf(e: LedgerEntry, gatewayId: string): ConsentReceipt {
  return {
    receiptVersion: 'edge-agent-cr-1',
    receiptId: `${gatewayId}:consent:${e.seq}`,
    sequence: e.seq,
    consentTimestamp: new Date(e.at).toISOString(),
    piiController: { gateway: gatewayId },
    piiPrincipal: { kind: e.scope === 'device' ? 'device' : 'profile', id: e.subject },
    collectionMethod: e.source,
    layer: e.scope,
    purpose: purpose(e),
    piiCategory: e.scope === 'device' ? e.target : null,
    sensitive: e.scope === 'device' && SPECIAL_CATEGORIES.has(e.target),
    state: e.granted ? 'granted' : 'withdrawn',
    policyVersion: e.policyVersion,
    erased: { queuedSignals: e.purged.outbox, engagementEvents: e.purged.engagement, rawRows: e.purged.raw },
    integrity: { hash: e.hash, prevHash: e.prevHash, algorithm: 'sha256-chain' },
  };
}

/** One readable line per receipt, for `consent export` without --json. */
export function receiptLine(r: ConsentReceipt): string {
  const erased =
    r.state === 'withdrawn'
      ? ` — erased ${r.erased.queuedSignals} queued signals, ${r.erased.engagementEvents} engagement events, ${r.erased.rawRows} raw rows`
      : '';
  return `#${r.sequence} ${r.consentTimestamp} ${r.state.toUpperCase()} ${r.purpose}${r.sensitive ? ' (special category)' : ''} [via ${r.collectionMethod}, policy v${r.policyVersion}]${erased}`;
}
