/** The language a user script is written in: JavaScript (ThingsBoard's js-executor) or TBEL (its MVEL dialect). */
export type ScriptLanguage = 'js' | 'tbel';
export const SCRIPT_LANGUAGES: readonly ScriptLanguage[] = ['js', 'tbel'];

/** The language a script file most likely is, from its name: `.tbel`/`.mvel` are TBEL, anything else JavaScript. */
export function languageOfFile(file: string | undefined): ScriptLanguage {
  return file !== undefined && /\.(tbel|mvel)$/i.test(file) ? 'tbel' : 'js';
}
