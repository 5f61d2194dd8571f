/** How far back (in series time) a taken timestamp is remembered: rows sharing a ms are created together. */
const REMEMBER_MS = 10 * 60_000;

/**
 * ThingsBoard keeps one value per (device, key, ts): two rows of one series sent with the same millisecond
 * would leave only the later. Each row gets its own ts (its time, or the next free millisecond of its series),
 * and keeps it when re-sent on this process's later connections, so a re-send overwrites itself rather than
 * adding a point. (After a restart a moved row may land on its original ms again: same id, visible upstream.)
 */
export class SeriesTimestamps {
  private readonly series = new Map<string, { byTs: Map<number, number>; max: number }>();
  private readonly byRow = new Map<number, number>();

  assign(series: string, rowId: number, ts: number): number {
    const known = this.byRow.get(rowId);
    if (known !== undefined) return known;
    let s = this.series.get(series);
    if (!s) this.series.set(series, (s = { byTs: new Map(), max: ts }));
    let t = ts;
    while (s.byTs.has(t)) t++;
    s.byTs.set(t, rowId);
    this.byRow.set(rowId, t);
    if (t > s.max) {
      s.max = t;
      if (s.byTs.size > 1024) this.forget(s);
    }
    return t;
  }

  private forget(s: { byTs: Map<number, number>; max: number }): void {
    for (const [ts, row] of s.byTs)
      if (ts < s.max - REMEMBER_MS) {
        s.byTs.delete(ts);
        this.byRow.delete(row);
      }
  }
}
