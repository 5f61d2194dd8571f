import { ConsentLedger } from '../consent/consent-ledger';
import type { Part } from '../part';
import type { BaseContext } from './context';
import type { StoreContext } from './store-part';

/** The consent ledger and the rules it yields: read before anything that decides on data (default deny). */
export class LedgerPart implements Part<BaseContext & StoreContext, { ledger: ConsentLedger }> {
  readonly name = 'consent-ledger';

  async start({ config, db }: BaseContext & StoreContext): Promise<{ ledger: ConsentLedger }> {
    const ledger = new ConsentLedger(db);
    ledger.load();
    for (const [category, version] of Object.entries(config.consent.requirePolicy)) ledger.rules.requirePolicyVersion(category, version);
    return { ledger };
  }

  async stop(): Promise<void> {}
}
