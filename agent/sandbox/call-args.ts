import type { ScriptKind } from './script-kind';
import type { ScriptLanguage } from './script-language';

/**
 * A TBEL decoder's arguments with the payload as Java's signed bytes, converted by the host, and the flag that
 * says so; unchanged when the payload is not a list of byte values (the script then converts, or fails, itself).
 */
export function signedPayloadArgs(args: readonly unknown[]): readonly unknown[] {
  const p = args[0];
  if (!Array.isArray(p) || !p.every((x) => Number.isInteger(x) && (x as number) >= -128 && (x as number) <= 255)) return args;
  return [(p as number[]).map((x) => (x > 127 ? x - 256 : x)), args[1], true];
}

/**
 * The JSON text of a call's arguments, made in the agent's thread and handed to the script worker as is; a TBEL
 * decoder's payload is made signed bytes here, before it enters the interpreter.
 */
export function callArgsJson(kind: ScriptKind, language: ScriptLanguage | undefined, args: readonly unknown[]): string {
  return JSON.stringify(language === 'tbel' && kind === 'decoder' ? signedPayloadArgs(args) : args);
}
