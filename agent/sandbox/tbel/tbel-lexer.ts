/**
 * Tokens of TBEL (ThingsBoard Expression Language, an MVEL dialect). The lexical grammar is Java's, restricted to
 * what TBEL accepts: `//` and `/* *\/` comments, identifiers, decimal/hex/binary/octal numbers with Java suffixes
 * (`10L`, `1.5f`, `2d`), strings in single or double quotes with Java escapes, and the operators below (`.?` is
 * MVEL's null-safe navigation). Every token carries its 1-based line and column in the TBEL source.
 */
export type TokenType = 'num' | 'str' | 'id' | 'op' | 'eof';

export interface Token {
  type: TokenType;
  /** identifier/operator text, or the decoded string */
  value: string;
  /** numeric value of a `num` token */
  num: number;
  /** the number had a decimal point, exponent or f/d suffix (a double in TBEL) */
  isDouble: boolean;
  line: number;
  col: number;
  /** a line break came between the previous token and this one (ends a statement without `;`) */
  newlineBefore: boolean;
}

/** A TBEL compile error at a position of the TBEL source. */
export class TbelSyntaxError extends Error {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`${detail} (line ${line}:${col})`);
    this.name = 'TbelSyntaxError';
  }
}

const OPERATORS = [
  '>>>=', '===', '!==', '>>>', '<<=', '>>=',
  '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<', '>>', '.?',
  '{', '}', '(', ')', '[', ']', ';', ',', '.', ':', '?', '+', '-', '*', '/', '%', '<', '>', '=', '!', '&', '|', '^', '~',
];

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

const isIdStart = (c: string): boolean => /[A-Za-z_$]/.test(c) || c > '\x7f';
const isIdPart = (c: string): boolean => /[A-Za-z0-9_$]/.test(c) || c > '\x7f';

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let newline = false;
  const n = src.length;
  const push = (type: TokenType, value: string, startLine: number, startCol: number, num = 0, isDouble = false): void => {
    out.push({ type, value, num, isDouble, line: startLine, col: startCol, newlineBefore: newline });
    newline = false;
  };
  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      newline = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff' || c === '\u00a0') {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new TbelSyntaxError('unterminated comment', line, col);
      for (let k = i; k < end; k++) {
        if (src[k] === '\n') {
          line++;
          lineStart = k + 1;
          newline = true;
        }
      }
      i = end + 2;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(src[j])) j++;
      push('id', src.slice(i, j), line, col);
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)([lLfFdD]?)/.exec(src.slice(i, i + 80));
      const text = m ? m[1] : c;
      const suffix = m ? m[2] : '';
      const clean = text.replace(/_/g, '');
      let num: number;
      let isDouble = false;
      if (/^0[xX]/.test(clean)) num = parseInt(clean.slice(2), 16);
      else if (/^0[bB]/.test(clean)) num = parseInt(clean.slice(2), 2);
      else if (/^0[0-7]+$/.test(clean)) num = parseInt(clean, 8);
      else {
        num = Number(clean);
        isDouble = /[.eE]/.test(clean) || /[fFdD]/.test(suffix);
      }
      if (!Number.isFinite(num) || text === '' || text === '.') throw new TbelSyntaxError(`bad number "${src.slice(i, i + 10)}"`, line, col);
      if (/[fF]/.test(suffix)) num = Math.fround(num);
      push('num', text + suffix, line, col, num, isDouble);
      i += text.length + suffix.length;
      if (i < n && isIdPart(src[i])) throw new TbelSyntaxError(`bad number "${src.slice(i - text.length - suffix.length, i + 1)}"`, line, col);
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      const startLine = line;
      for (;;) {
        if (j >= n) throw new TbelSyntaxError('unterminated string', startLine, col);
        const d = src[j];
        if (d === c) break;
        if (d === '\\') {
          const e = src[j + 1];
          if (e === 'u') {
            const hex = /^u+([0-9a-fA-F]{4})/.exec(src.slice(j + 1, j + 12));
            if (!hex) throw new TbelSyntaxError('bad \\u escape in string', line, j - lineStart + 1);
            s += String.fromCharCode(parseInt(hex[1], 16));
            j += 1 + hex[0].length;
            continue;
          }
          if (e !== undefined && /[0-7]/.test(e)) {
            const oct = /^[0-7]{1,3}/.exec(src.slice(j + 1, j + 4))![0];
            s += String.fromCharCode(parseInt(oct, 8) & 0xff);
            j += 1 + oct.length;
            continue;
          }
          if (e === undefined || !(e in ESCAPES)) throw new TbelSyntaxError(`bad escape \\${e ?? ''} in string`, line, j - lineStart + 1);
          s += ESCAPES[e];
          j += 2;
          continue;
        }
        if (d === '\n') {
          line++;
          lineStart = j + 1;
        }
        s += d;
        j++;
      }
      push('str', s, startLine, col);
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new TbelSyntaxError(`unexpected character "${c}"`, line, col);
    // `a.?b` is null-safe navigation only before a name; `x ?.5 : 1` is a ternary.
    if (op === '.?' && !isIdStart(src[i + 2] ?? '')) {
      push('op', '.', line, col);
      i += 1;
      continue;
    }
    push('op', op, line, col);
    i += op.length;
  }
  out.push({ type: 'eof', value: '', num: 0, isDouble: false, line, col: i - lineStart + 1, newlineBefore: newline });
  return out;
}
