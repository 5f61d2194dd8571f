import type { StatusDocument } from '../api/status';

type Section<K extends keyof StatusDocument> = (now: number) => StatusDocument[K];
type Sections = { [K in keyof StatusDocument]-?: Section<K> };

/** Sections in the order `status --json` has always shown them. */
const ORDER: ReadonlyArray<keyof StatusDocument> = [
  'gateway', 'devices', 'ingest', 'engagement', 'triggers', 'outbox', 'storage', 'upstream',
  'consent', 'parts', 'drivers', 'scripts', 'sandbox', 'outcomes', 'scriptOutcomes', 'faults', 'firmware',
];

/** Upstream figures when no uplink runs (none configured, or its part failed to start). */
const NO_UPSTREAM: StatusDocument['upstream'] = {
  connected: false, published: 0, lastAckAt: null, url: null, profile: null, error: null, connects: 0, messages: 0,
  payloadBytes: 0, inFlightRows: 0, nextRetryAt: null, downlink: { accepted: 0, rejected: 0, lastError: null },
};

/**
 * The status document, section by section from the part that owns the data: each part fills its sections when it
 * starts. It exists before every part, so the API (which starts before the drivers) shows what started later.
 */
export class StatusBoard {
  private readonly sections: Partial<Sections> = { upstream: () => NO_UPSTREAM, drivers: () => [], firmware: () => undefined };

  set<K extends keyof StatusDocument>(key: K, section: Section<K>): void {
    (this.sections as Record<K, Section<K>>)[key] = section;
  }

  /** The section as filled so far (a later part may extend it, e.g. the uplink's drops in `outbox`). */
  get<K extends keyof StatusDocument>(key: K): Section<K> | undefined {
    return (this.sections as Record<K, Section<K> | undefined>)[key];
  }

  document(now: number): StatusDocument {
    const doc: Partial<Record<keyof StatusDocument, unknown>> = {};
    for (const key of ORDER) {
      const section = this.sections[key];
      if (section === undefined) throw new Error(`status section ${key} has no part filling it (agent not started?)`);
      doc[key] = section(now);
    }
    return doc as StatusDocument;
  }
}
