/** How a script failed (DESIGN §8). `compile` never reaches a call; the others are per call. */
export type ScriptErrorKind = 'compile' | 'runtime' | 'timeout' | 'memory';

/** A classified script failure: which script, what kind, a short message and, for compile errors, where. */
export class ScriptError extends Error {
  constructor(
    readonly kind: ScriptErrorKind,
    readonly scriptId: string,
    readonly detail: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super('');
    const at = this.where();
    this.message = `script ${scriptId}: ${kind} error${at ? ` at ${at}` : ''}: ${detail}`;
    this.name = 'ScriptError';
  }

  /** Where the error is: `file:3:11`, `line 3:11` without a file, the file alone without a line, or ''. */
  where(file?: string): string {
    if (this.line === undefined) return file ?? '';
    const pos = `${this.line}${this.column !== undefined ? `:${this.column}` : ''}`;
    return file ? `${file}:${pos}` : `line ${pos}`;
  }

  toJSON(): { kind: ScriptErrorKind; script: string; message: string; line?: number; column?: number } {
    return {
      kind: this.kind,
      script: this.scriptId,
      message: this.detail,
      ...(this.line !== undefined ? { line: this.line } : {}),
      ...(this.column !== undefined ? { column: this.column } : {}),
    };
  }
}
