import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigIssue } from './errors';
import { show } from './schema-validation';
import type { ScriptSourceConfig } from './types';

/** The base directory of a definition that must never name a file (from upstream): scriptFile is refused unread. */
export const NO_FILES = '\u0000no-files';

/** `{ script: "…" }` or `{ scriptFile: path }`, optionally with `language: tbel|js` → the source; null when the object is neither. */
export function scriptSource(o: Record<string, unknown>, at: string, baseDir: string, issues: ConfigIssue[]): ScriptSourceConfig | null {
  const extra = Object.keys(o).filter((k) => k !== 'script' && k !== 'scriptFile' && k !== 'language');
  const lang: Pick<ScriptSourceConfig, 'language'> = {};
  if (o.language !== undefined) {
    if (o.language === 'tbel' || o.language === 'js') lang.language = o.language;
    else issues.push({ path: `${at}.language`, message: `must be tbel or js, got ${show(o.language)}` });
  }
  if (typeof o.script === 'string' && o.script.trim() !== '') {
    if (extra.length || 'scriptFile' in o) issues.push({ path: at, message: 'give either script or scriptFile (and optionally language), nothing else' });
    return { source: o.script, ...lang };
  }
  if (typeof o.scriptFile === 'string') {
    if (extra.length) issues.push({ path: `${at}.${extra[0]}`, message: 'unknown key (allowed: script or scriptFile, language)' });
    if (baseDir === NO_FILES) {
      issues.push({ path: `${at}.scriptFile`, message: 'files cannot be named here' });
      return { source: '' };
    }
    const file = path.resolve(baseDir, o.scriptFile);
    // a .tbel/.mvel file is TBEL unless language says otherwise
    if (lang.language === undefined && /\.(tbel|mvel)$/i.test(file)) lang.language = 'tbel';
    try {
      return { source: fs.readFileSync(file, 'utf8'), file, ...lang };
    } catch (err) {
      issues.push({ path: `${at}.scriptFile`, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      return { source: '', file };
    }
  }
  return null;
}
