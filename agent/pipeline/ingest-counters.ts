/** Ingest totals reported in `status.ingest` (DESIGN §9) plus per-device-type drop counters (consent metrics). */
export class IngestCounters {
  accepted = 0;
  droppedNoConsent = 0;
  duplicates = 0;
  framesBad = 0;
  /** data frames refused (not acked) while the storage budget was full of undroppable data */
  refusedStorageFull = 0;
  /** data frames refused (not acked) because their device went over its rate limit */
  rateLimited = 0;
  /** droppedNoConsent split by device model, so opt-out rates by device type can be computed without raw data. */
  readonly droppedByModel = new Map<string, number>();

  dropNoConsent(model: string | null, n = 1): void {
    this.droppedNoConsent += n;
    const k = model ?? 'unknown';
    this.droppedByModel.set(k, (this.droppedByModel.get(k) ?? 0) + n);
  }

  toMap(): Map<string, number> {
    const m = new Map<string, number>([
      ['ingest.accepted', this.accepted],
      ['ingest.droppedNoConsent', this.droppedNoConsent],
      ['ingest.duplicates', this.duplicates],
      ['ingest.framesBad', this.framesBad],
      ['ingest.refusedStorageFull', this.refusedStorageFull],
      ['ingest.rateLimited', this.rateLimited],
    ]);
    for (const [k, v] of this.droppedByModel) m.set(`ingest.droppedNoConsent.model.${k}`, v);
    return m;
  }

  restore(m: ReadonlyMap<string, number>): void {
    this.accepted = m.get('ingest.accepted') ?? 0;
    this.droppedNoConsent = m.get('ingest.droppedNoConsent') ?? 0;
    this.duplicates = m.get('ingest.duplicates') ?? 0;
    this.framesBad = m.get('ingest.framesBad') ?? 0;
    this.refusedStorageFull = m.get('ingest.refusedStorageFull') ?? 0;
    this.rateLimited = m.get('ingest.rateLimited') ?? 0;
    for (const [k, v] of m) {
      if (k.startsWith('ingest.droppedNoConsent.model.')) this.droppedByModel.set(k.slice(30), v);
    }
  }

  snapshot(): {
    accepted: number;
    droppedNoConsent: number;
    duplicates: number;
    framesBad: number;
    refusedStorageFull: number;
    rateLimited: number;
    droppedNoConsentByType: Record<string, number>;
  } {
    return {
      accepted: this.accepted,
      droppedNoConsent: this.droppedNoConsent,
      duplicates: this.duplicates,
      framesBad: this.framesBad,
      refusedStorageFull: this.refusedStorageFull,
      rateLimited: this.rateLimited,
      droppedNoConsentByType: Object.fromEntries(this.droppedByModel),
    };
  }
}
