import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseDuration } from '../../config';
import {
  FIRST_GENERATOR_INPUT,
  ScriptHost,
  SCRIPT_KINDS,
  SCRIPT_LANGUAGES,
  checkCondition,
  checkDecoded,
  checkGenerated,
  checkScore,
  checkSwitch,
  checkTransform,
  languageOfFile,
  readConverterExport,
  scriptLimits,
  type Checked,
  type RuleMessage,
  type ScriptKind,
  type ScriptLanguage,
  type ScriptLimits,
} from '../../sandbox';
import { whyScriptCannotRun } from '../../sandbox/cannot-run-reason';
import { CliError } from '../cli-error';
import { jsonFailure, printJson, type CliOutput } from '../output';
import { configErrorAsCli } from './config-command';

export interface ScriptTestOptions {
  file?: string;
  /** a ThingsBoard converter export; its decoder runs as a decoder in its own language */
  converter?: string;
  lang?: string;
  input?: string;
  kind?: string;
  metadata?: string;
  msgType?: string;
  /** generator: how many messages to generate, each from the one before */
  count?: string;
  config?: string;
  timeout?: string;
  memoryMb?: string;
  json?: boolean;
}

/** The kind a script most likely is, from the names it uses (an explicit --kind wins). */
export function guessKind(source: string): ScriptKind {
  if (/\bprevMsg\b|\bprevMetadata\b|\bprevMsgType\b/.test(source)) return 'generator';
  if (/\bfunction\s+Decoder\b|\bpayload\b/.test(source)) return 'decoder';
  if (/\bfeatures\b/.test(source)) return 'score';
  return 'rule';
}

/** A flag's value that names an existing file is read from it (converter payload.json, metadata.json). */
function fileOrText(value: string): { text: string; file: boolean } {
  try {
    if (fs.statSync(value).isFile()) return { text: fs.readFileSync(value, 'utf8'), file: true };
  } catch {
    // not a file: the value itself
  }
  return { text: value, file: false };
}

function parseJson(text: string, flag: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${flag} is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. ${flag} '{"v": 5}'`, 2);
  }
}

/** A decoder's payload is bytes: an array of numbers as given, a string or any other JSON as its UTF-8 text. */
function payloadBytes(input: unknown): number[] {
  if (Array.isArray(input) && input.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) return input as number[];
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  return [...Buffer.from(text, 'utf8')];
}

/** The result check of a kind; rule-node kinds take the input message to fill what the result leaves out. */
function checkOf(kind: ScriptKind, input: RuleMessage): (v: unknown) => Checked<unknown> {
  switch (kind) {
    case 'decoder':
      return checkDecoded;
    case 'condition':
      return checkCondition;
    case 'score':
      return checkScore;
    case 'transform':
      return (v) => checkTransform(v, input);
    case 'switch':
      return checkSwitch;
    case 'generator':
      return (v) => checkGenerated(v, input);
    case 'rule':
      return (v) => ({ ok: true, value: v });
  }
}

const asMetadata = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)])) : {};

/**
 * `edge-agent script test`: runs one script exactly as the agent would — same engine, same limits (from the
 * config when one is given), same argument shapes and result checks — and shows the result, the script's
 * console lines and the time it took.
 */
export async function scriptTestCommand(o: ScriptTestOptions, io: CliOutput): Promise<number> {
  if ((o.file === undefined) === (o.converter === undefined)) throw new CliError('give the script with --file or a ThingsBoard converter export with --converter (one of them)', 2);
  const file = path.resolve((o.file ?? o.converter)!);
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 2);
  }
  if (o.kind !== undefined && !SCRIPT_KINDS.includes(o.kind as ScriptKind)) {
    throw new CliError(`--kind must be one of ${SCRIPT_KINDS.join(', ')}, got "${o.kind}"`, 2);
  }
  if (o.lang !== undefined && !SCRIPT_LANGUAGES.includes(o.lang.toLowerCase() as ScriptLanguage)) {
    throw new CliError(`--lang must be one of ${SCRIPT_LANGUAGES.join(', ')}, got "${o.lang}"`, 2);
  }
  let language = (o.lang?.toLowerCase() as ScriptLanguage | undefined) ?? languageOfFile(o.file);
  if (o.converter !== undefined) {
    if (o.kind !== undefined && o.kind !== 'decoder') throw new CliError(`a converter's script is a decoder; --kind ${o.kind} does not apply`, 2);
    try {
      const conv = readConverterExport(source);
      source = conv.source;
      language = (o.lang?.toLowerCase() as ScriptLanguage | undefined) ?? conv.language;
    } catch (err) {
      throw new CliError(`${file}: ${(err as Error).message}`, 2);
    }
  }
  const kind = o.converter !== undefined ? 'decoder' : ((o.kind as ScriptKind | undefined) ?? guessKind(source));
  const limits: Partial<ScriptLimits> = {};
  if (o.config) {
    try {
      Object.assign(limits, scriptLimits(loadConfig(path.resolve(o.config)).config));
    } catch (err) {
      if (err instanceof ConfigError) throw configErrorAsCli(err);
      throw err;
    }
  }
  if (o.timeout !== undefined) {
    const ms = parseDuration(o.timeout);
    if (ms === null || ms < 1) throw new CliError(`--timeout must be a duration like 50ms or 2s, got "${o.timeout}"`, 2);
    limits.timeoutMs = ms;
  }
  if (o.memoryMb !== undefined) {
    const mb = Number(o.memoryMb);
    if (!(mb >= 1 && mb <= 256)) throw new CliError(`--memory-mb must be 1–256, got "${o.memoryMb}"`, 2);
    limits.memoryBytes = mb * 1048576;
  }
  const generator = kind === 'generator';
  const inputArg = o.input === undefined ? null : fileOrText(o.input);
  // a decoder given a file gets the file's bytes, as a device or an integration would send them
  const rawFile = inputArg !== null && inputArg.file && kind === 'decoder';
  const input = inputArg === null ? (kind === 'decoder' ? [] : {}) : rawFile ? inputArg.text : parseJson(inputArg.text, '--input');
  const metadata = o.metadata === undefined ? {} : parseJson(fileOrText(o.metadata).text, '--metadata');
  // a generator's first call gets {} / {} / "" (ThingsBoard's generator node), unless given a previous message
  const message: RuleMessage = generator
    ? { msg: o.input === undefined ? FIRST_GENERATOR_INPUT.msg : input, metadata: asMetadata(metadata), msgType: o.msgType ?? FIRST_GENERATOR_INPUT.msgType }
    : { msg: input, metadata: asMetadata(metadata), msgType: o.msgType ?? 'EVENT' };
  const argsOf = (m: RuleMessage): unknown[] =>
    kind === 'decoder' ? [rawFile ? [...Buffer.from(input as string, 'utf8')] : payloadBytes(input), metadata] : kind === 'score' ? [input] : [m.msg, generator ? m.metadata : metadata, m.msgType];
  const count = o.count === undefined ? 1 : Number(o.count);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new CliError(`--count must be 1–1000, got "${o.count}"`, 2);
  if (count > 1 && !generator) throw new CliError('--count is for generator scripts (each message is generated from the one before)', 2);

  // A converter's result is shown as ThingsBoard shows it; the agent's decoder check would refuse forms that
  // ThingsBoard accepts (nested JSON values), so it is not applied there.
  const checkFor = (m: RuleMessage): ((v: unknown) => Checked<unknown>) => (o.converter !== undefined ? checkOf('rule', m) : checkOf(kind, m));
  const unfit = whyScriptCannotRun(source, null, language);
  if (unfit) {
    if (o.json) printJson(io, jsonFailure(`cannot run here: ${unfit}`, 1, { kind, language, cannotRunHere: unfit }));
    else io.err(`cannot run here: ${unfit}`);
    return 1;
  }
  const host = new ScriptHost({ limits });
  try {
    const compileError = await host.add({ id: path.basename(file), kind, source, file, language });
    if (compileError) {
      const why = whyScriptCannotRun(source, compileError, language);
      const where = o.converter !== undefined ? `${file} (its ${language === 'tbel' ? 'tbelDecoder' : 'decoder'}, ${compileError.where() || 'no line'})` : compileError.where(file);
      if (o.json) printJson(io, jsonFailure(compileError.message, 1, { kind, language, ...(why ? { cannotRunHere: why } : {}) }, { ...compileError.toJSON(), file }));
      else if (why) io.err(`cannot run here: ${why} (compile error at ${where}: ${compileError.detail})`);
      else io.err(`compile error at ${where}: ${compileError.detail}`);
      return 1;
    }
    const started = process.hrtime.bigint();
    const results: unknown[] = [];
    let prev = message;
    let run = host.run(path.basename(file), argsOf(prev), checkFor(prev), { logs: true });
    const logs = [...(run.logs ?? [])];
    while (run.ok) {
      results.push(run.value);
      if (results.length >= count) break;
      prev = run.value as RuleMessage;
      run = host.run(path.basename(file), argsOf(prev), checkFor(prev), { logs: true });
      logs.push(...(run.logs ?? []));
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const value = count > 1 ? results : results[0];
    const why = run.ok ? null : whyScriptCannotRun(source, run.error, language);
    if (o.json) {
      printJson(
        io,
        run.ok
          ? { ok: true, kind, language, result: value, logs, durationMs: ms }
          : jsonFailure(run.error.message, 1, { kind, language, ...(why ? { cannotRunHere: why } : {}), logs, durationMs: ms }, run.error.toJSON()),
      );
    } else {
      for (const l of logs) io.err(`console.${l}`);
      if (run.ok) io.out(`${kind} ok in ${ms.toFixed(2)} ms:\n${JSON.stringify(value, null, 2)}`);
      else if (why) io.err(`cannot run here: ${why} (${run.error.kind} error: ${run.error.detail})`);
      else io.err(`${run.error.kind} error after ${ms.toFixed(2)} ms: ${run.error.detail}`);
    }
    return run.ok ? 0 : 1;
  } finally {
    host.stop();
  }
}
