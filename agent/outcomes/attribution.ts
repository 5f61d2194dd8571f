/** One trigger of one (profile, campaign) key. */
export interface AttributionTrigger {
  id: string;
  key: string;
  at: number;
}

/** One purchase; `trigger` set when upstream named the trigger it answers. */
export interface AttributionPurchase {
  key: string;
  at: number;
  trigger: string | null;
}

/** Purchase `p` may convert trigger `t`: same key, strictly after it and at most `windowMs` later. */
export function inWindow(t: AttributionTrigger, p: AttributionPurchase, windowMs: number): boolean {
  return t.key === p.key && p.at > t.at && p.at - t.at <= windowMs;
}

/**
 * Trigger-to-conversion attribution: returns trigger id → index of the purchase that converted it. Each trigger
 * converts at most once and each purchase converts at most one trigger. A purchase reported for a trigger id
 * counts for that trigger only (applied first); every other purchase goes to the oldest still-unconverted trigger
 * whose window contains it. With one window length per key this greedy converts as many triggers as any
 * assignment can (earliest deadline first; the property test checks it against a brute-force maximum matching).
 * Purchases before any trigger or outside every window convert nothing.
 */
export function attribute(
  triggers: readonly AttributionTrigger[],
  purchases: readonly AttributionPurchase[],
  windowMs: number,
): Map<string, number> {
  const converted = new Map<string, number>();
  const byId = new Map(triggers.map((t) => [t.id, t]));
  purchases.forEach((p, i) => {
    if (p.trigger === null) return;
    const t = byId.get(p.trigger);
    if (t && !converted.has(t.id) && inWindow(t, p, windowMs)) converted.set(t.id, i);
  });
  const byKey = new Map<string, AttributionTrigger[]>();
  for (const t of triggers) {
    const list = byKey.get(t.key) ?? [];
    list.push(t);
    byKey.set(t.key, list);
  }
  for (const list of byKey.values()) list.sort((a, b) => a.at - b.at);
  const open = purchases
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.trigger === null)
    .sort((a, b) => a.p.at - b.p.at);
  for (const { p, i } of open) {
    const list = byKey.get(p.key);
    if (!list) continue;
    // first trigger that can still be in window: at >= p.at - windowMs
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].at < p.at - windowMs) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < list.length && list[j].at < p.at; j++) {
      if (!converted.has(list[j].id)) {
        converted.set(list[j].id, i);
        break;
      }
    }
  }
  return converted;
}
