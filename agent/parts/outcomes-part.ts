import { OutcomeService, OutcomeStore } from '../outcomes';
import type { ConsentLedger } from '../consent/consent-ledger';
import type { Part } from '../part';
import type { BaseContext } from './context';
import type { DevicesContext } from './devices-part';
import type { StoreContext } from './store-part';

type In = BaseContext & StoreContext & DevicesContext & { ledger: ConsentLedger };

/** Campaign outcomes (docs/outcomes.md): triggers, purchases, presence, delivery through the device. */
export class OutcomesPart implements Part<In, { outcomes: OutcomeService }> {
  readonly name = 'outcomes';
  private outcomes: OutcomeService | null = null;

  async start({ config, clock, bus, status, db, committer, outbox, ledger, devices, commander, deviceType }: In): Promise<{ outcomes: OutcomeService }> {
    const outcomes = new OutcomeService({
      config,
      store: new OutcomeStore(db),
      committer,
      outbox,
      consent: ledger.rules,
      bus,
      commander,
      devices: () => [...devices.sessions.values()].map((s) => ({ id: s.id, type: deviceType(s.id), profile: s.profile })),
      clock,
    });
    this.outcomes = outcomes;
    outcomes.start();
    status.set('outcomes', (now) => outcomes.document(now));
    return { outcomes };
  }

  async stop(): Promise<void> {
    this.outcomes?.stop();
    this.outcomes = null;
  }
}
