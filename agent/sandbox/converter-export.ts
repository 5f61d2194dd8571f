import type { ScriptLanguage } from './script-language';

/** The uplink decoder of a ThingsBoard converter export (the JSON that ThingsBoard's "Export converter" saves). */
export interface ConverterExport {
  name: string;
  language: ScriptLanguage;
  source: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads an export: `configuration.scriptLang` is "TBEL" or "JS", and the decoder is `configuration.tbelDecoder`
 * or `configuration.decoder` accordingly (ThingsBoard keeps both fields; the language picks one). Throws an Error
 * with a one-line reason for anything else (a downlink converter, a missing script).
 */
export function readConverterExport(text: string): ConverterExport {
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc) || !isObject(doc.configuration)) throw new Error('not a ThingsBoard converter export: no "configuration" object');
  const c = doc.configuration;
  const name = typeof doc.name === 'string' ? doc.name : 'converter';
  if (typeof doc.type === 'string' && doc.type.toUpperCase() === 'DOWNLINK') throw new Error(`"${name}" is a downlink converter; only uplink decoders run here`);
  const lang = typeof c.scriptLang === 'string' ? c.scriptLang.toUpperCase() : undefined;
  if (lang !== undefined && lang !== 'TBEL' && lang !== 'JS') throw new Error(`configuration.scriptLang must be "TBEL" or "JS", got "${c.scriptLang as string}"`);
  // Exports from before TBEL existed have no scriptLang: they are JavaScript.
  const language: ScriptLanguage = lang === 'TBEL' ? 'tbel' : 'js';
  const field = language === 'tbel' ? 'tbelDecoder' : 'decoder';
  const source = c[field];
  if (typeof source !== 'string' || source.trim() === '') throw new Error(`configuration.${field} is empty: the export has no ${language === 'tbel' ? 'TBEL' : 'JavaScript'} decoder`);
  return { name, language, source };
}
