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
    super(`script ${scriptId}: ${kind} error${line !== undefined ? ` at line ${line}${column !== undefined ? `:${column}` : ''}` : ''}: ${detail}`);
    this.name = 'ScriptError';
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
