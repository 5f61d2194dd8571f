/** An error the CLI prints as one line (what is wrong and what to do) with a chosen exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

