/**
 * An error the CLI prints as one line (what is wrong and what to do) with a chosen exit code. Under `--json` it is
 * printed as `jsonFailure(message, exitCode, detail)` instead (docs/cli.md).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
