import * as readline from 'node:readline/promises';

/**
 * Questions for interactive commands (pairing at a gateway). Every answer is checked where it is typed, so a
 * technician fixes a typo on the spot instead of reading an error after the whole dialogue.
 */
export class Prompter {
  private readonly rl: readline.Interface;

  constructor(
    input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
  ) {
    this.rl = readline.createInterface({ input, output, terminal: true });
  }

  say(line: string): void {
    this.output.write(line + '\n');
  }

  /** A free answer; `check` returns an error message or null. Empty takes the default when there is one. */
  async ask(question: string, opts: { default?: string; check?: (answer: string) => string | null } = {}): Promise<string> {
    for (;;) {
      const raw = (await this.rl.question(`${question}${opts.default !== undefined ? ` [${opts.default}]` : ''}: `)).trim();
      const answer = raw === '' && opts.default !== undefined ? opts.default : raw;
      const problem = answer === '' ? 'an answer is needed' : (opts.check?.(answer) ?? null);
      if (problem === null) return answer;
      this.say(`  ${problem}`);
    }
  }

  /** One of a numbered list, by number or by its exact text. */
  async choose(question: string, options: readonly string[], opts: { default?: number } = {}): Promise<number> {
    options.forEach((o, i) => this.say(`  ${i + 1}) ${o}`));
    const answer = await this.ask(question, {
      ...(opts.default !== undefined ? { default: String(opts.default + 1) } : {}),
      check: (a) => (this.pick(a, options) === -1 ? `type a number from 1 to ${options.length}` : null),
    });
    return this.pick(answer, options);
  }

  private pick(a: string, options: readonly string[]): number {
    const n = Number(a);
    if (Number.isInteger(n) && n >= 1 && n <= options.length) return n - 1;
    return options.indexOf(a);
  }

  async confirm(question: string, def = true): Promise<boolean> {
    const a = await this.ask(`${question} (${def ? 'Y/n' : 'y/N'})`, {
      default: def ? 'y' : 'n',
      check: (x) => (/^(y|yes|n|no)$/i.test(x) ? null : 'answer y or n'),
    });
    return /^y/i.test(a);
  }

  close(): void {
    this.rl.close();
  }
}
