/** Where CLI commands write; injectable so tests can drive commands in-process. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export const processOutput: CliOutput = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
  isTTY: process.stdout.isTTY === true,
};

/** Renders rows as an aligned plain-text table. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function fmtNumber(n: number | null, digits = 2): string {
  if (n === null) return '-';
  if (Number.isInteger(n)) return String(n);
  return Number(n.toFixed(digits)).toString();
}
