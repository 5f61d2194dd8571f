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

/**
 * The one JSON output path (docs/cli.md): every `--json` document, and every line of a JSON-lines stream, is one
 * compact line on stdout.
 */
export function printJson(io: CliOutput, doc: unknown): void {
  io.out(jsonText(doc));
}

/** The text printJson prints, for a document that goes to a file (`consent export --json --out`). */
export function jsonText(doc: unknown): string {
  return JSON.stringify(doc);
}

/**
 * What a failing command prints under `--json`: `{…detail, "ok": false, "error": {"message", "exitCode", …}}`, one
 * line on stdout; `message` is the line the human output prints, `exitCode` the process's exit status.
 */
export function jsonFailure(
  message: string,
  exitCode: 1 | 2,
  detail: Record<string, unknown> = {},
  error: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...detail, ok: false, error: { message, ...error, exitCode } };
}
