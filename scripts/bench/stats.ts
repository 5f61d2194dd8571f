/** Percentile of an ascending-sorted sample (nearest-rank). */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  peer?: string;
  target?: string;
}

export function printTable(results: BenchResult[]): string {
  const head = ['figure', 'value', 'unit', 'target', 'peer'];
  const rows = results.map((r) => [r.name, r.value.toLocaleString('en-US', { maximumFractionDigits: 3 }), r.unit, r.target ?? '', r.peer ?? '']);
  const w = head.map((h, i) => Math.max(...rows.map((r) => r[i].length), h.length));
  const line = (c: string[]): string => c.map((x, i) => (i === 1 ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
