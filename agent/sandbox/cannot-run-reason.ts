import type { ScriptError } from './script-error';
import type { ScriptLanguage } from './script-language';

/** Host facilities a script may reach for that do not exist in the sandbox (nor in ThingsBoard's). */
const HOST_NAMES: Record<string, string> = {
  require: 'modules',
  module: 'modules',
  exports: 'modules',
  process: 'the process',
  Buffer: "Node's Buffer (use the payload byte array, decodeToString, atob)",
  setTimeout: 'timers',
  setInterval: 'timers',
  setImmediate: 'timers',
  fetch: 'the network',
  XMLHttpRequest: 'the network',
  WebSocket: 'the network',
  fs: 'files',
  __dirname: 'files',
  global: "Node's global object (use globalThis)",
};

/** Signs of TBEL (ThingsBoard expression language, MVEL-based) in a script that does not compile as JavaScript. */
const TBEL_SIGNS: Array<[RegExp, string]> = [
  [/\bforeach\s*\(/, 'foreach'],
  [/\bdef\s+\w+\s*\(/, 'def functions'],
  [/\.size\(\)/, '.size()'],
  [/\b(?:bytesToInt|parseBytesToInt|bytesToString|hexToBytes|parseHexToInt|toFixed\s*\(\s*\w+\s*,)/, 'TBEL helpers'],
  [/\[\s*(?:"[^"]*"|'[^']*'|\w+)\s*:\s*[^\]]*\]/, 'map literals [a: 1]'],
];

/**
 * One line on why a script cannot run on this gateway (`err` null: before compiling, from its text alone) — not a bug in it, but something it needs that this
 * sandbox does not have (and ThingsBoard's JavaScript sandbox has neither) or a different language — or null
 * when the failure is an ordinary one (a typo, bad data) that the error message already explains.
 */
export function whyScriptCannotRun(source: string, err: ScriptError | null, language: ScriptLanguage = 'js'): string | null {
  const t = source.trimStart();
  if (t.startsWith('{') && /"configuration"\s*:/.test(source) && /"(?:decoder|tbelDecoder)"\s*:/.test(source))
    return 'this is a converter export (JSON), not a script: run it with script test --converter, or pass its decoder script';
  if (/\bfunction\s+Encoder\s*\(/.test(source) && !/\bfunction\s+Decoder\s*\(/.test(source)) return 'it is a downlink encoder: this gateway only decodes uplinks';
  if (err === null) return null; // nothing more can be told before it runs
  if (err.kind === 'compile' && language === 'js') {
    if (/^\s*(?:import\s[^(]|export\s)/m.test(source)) return 'it is an ES module (import/export): a script here is one function or function body, with nothing to import';
    const tbel = TBEL_SIGNS.filter(([re]) => re.test(source)).map(([, what]) => what);
    if (tbel.length > 0) return `it looks like TBEL, not JavaScript (${tbel.join(', ')}): run it as TBEL (--lang tbel, or language: tbel in the config)`;
    return null;
  }
  const undefinedName = /ReferenceError: '([\w$]+)' is not defined/.exec(err.detail)?.[1];
  if (undefinedName && Object.hasOwn(HOST_NAMES, undefinedName))
    return `it uses ${undefinedName}, and scripts here have no access to ${HOST_NAMES[undefinedName]} (ThingsBoard's sandbox has none either)`;
  if (/returned a Promise/.test(err.detail)) return 'it is asynchronous (returns a Promise): scripts here must return their result directly, as in ThingsBoard';
  return null;
}
