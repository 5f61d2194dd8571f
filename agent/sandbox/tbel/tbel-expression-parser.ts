import { literalKind } from './tbel-types';
import type { Expr } from './tbel-ast';
import { TbelSyntaxError, type Token } from './tbel-lexer';

/** Java type names a TBEL declaration or cast may use. */
const TYPE_NAMES = new Set([
  'int', 'long', 'double', 'float', 'short', 'byte', 'char', 'boolean', 'String', 'Integer', 'Long', 'Double', 'Float',
  'Short', 'Byte', 'Character', 'Boolean', 'Object', 'Number', 'List', 'Map', 'ArrayList', 'HashMap', 'LinkedHashMap', 'Set', 'HashSet', 'def', 'var',
]);
/** Words that can never be a Java type in a declaration (`return x`, `new X`). */
export const STATEMENT_WORDS = new Set(['return', 'new', 'throw', 'else', 'case', 'default', 'instanceof', 'true', 'false', 'null', 'break', 'continue', 'do', 'in']);
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '>>>=']);
const BINARY_LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!=', '===', '!=='], ['<', '>', '<=', '>=', 'instanceof'], ['<<', '>>', '>>>'], ['+', '-'], ['*', '/', '%']];

/**
 * The token cursor and the expression half of the TBEL parser (Java precedence; the grammar is in tbel-parser.ts
 * and docs/tbel.md). The statement half, in tbel-parser.ts, extends it.
 */
export class TbelExpressionParser {
  protected i = 0;
  constructor(protected readonly toks: Token[]) {}

  protected get tok(): Token {
    return this.toks[this.i];
  }
  protected peek(k = 1): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  protected is(value: string, tok = this.tok): boolean {
    return (tok.type === 'op' || tok.type === 'id') && tok.value === value;
  }
  protected fail(msg: string, tok = this.tok): never {
    throw new TbelSyntaxError(msg, tok.line, tok.col);
  }
  protected describe(tok: Token): string {
    return tok.type === 'eof' ? 'end of script' : tok.type === 'str' ? `string "${tok.value}"` : `"${tok.value}"`;
  }
  protected expect(value: string): Token {
    if (!this.is(value)) this.fail(`expected "${value}" but found ${this.describe(this.tok)}`);
    return this.toks[this.i++];
  }
  protected accept(value: string): boolean {
    if (!this.is(value)) return false;
    this.i++;
    return true;
  }
  protected name(): string {
    const t = this.tok;
    if (t.type !== 'id') this.fail(`expected a name but found ${this.describe(t)}`);
    this.i++;
    return t.value;
  }

  expression(): Expr {
    const left = this.ternary();
    if (this.tok.type === 'op' && ASSIGN_OPS.has(this.tok.value)) {
      const opTok = this.tok;
      if (!(left.t === 'id' || left.t === 'member' || left.t === 'index')) this.fail(`cannot assign to this expression`, opTok);
      this.i++;
      return { t: 'assign', op: opTok.value, target: left, value: this.expression() };
    }
    return left;
  }

  protected ternary(): Expr {
    const test = this.binary(0);
    if (!this.accept('?')) return test;
    const then = this.expression();
    this.expect(':');
    return { t: 'cond', test, then, else: this.expression() };
  }

  protected binary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    const ops = BINARY_LEVELS[level];
    for (;;) {
      const t = this.tok;
      if (!((t.type === 'op' || (t.type === 'id' && t.value === 'instanceof')) && ops.includes(t.value))) return left;
      this.i++;
      if (t.value === 'instanceof') {
        let type = this.name();
        while (this.accept('.')) type = this.name();
        left = { t: 'instanceof', expr: left, type };
        continue;
      }
      left = { t: 'binary', op: t.value, left, right: this.binary(level + 1) };
    }
  }

  protected unary(): Expr {
    const t = this.tok;
    if (t.type === 'op') {
      if (t.value === '!' || t.value === '-' || t.value === '+' || t.value === '~') {
        this.i++;
        const arg = this.unary();
        if (t.value === '-' && arg.t === 'num') return { ...arg, value: -arg.value };
        return { t: 'unary', op: t.value, arg };
      }
      if (t.value === '++' || t.value === '--') {
        this.i++;
        const target = this.unary();
        if (!(target.t === 'id' || target.t === 'member' || target.t === 'index')) this.fail(`${t.value} needs a variable`, t);
        return { t: 'update', op: t.value, prefix: true, target };
      }
      // cast: (int) x, (String) y
      if (t.value === '(' && this.peek().type === 'id' && TYPE_NAMES.has(this.peek().value) && this.is(')', this.peek(2))) {
        const next = this.peek(3);
        if (next.type === 'id' || next.type === 'num' || next.type === 'str' || this.is('(', next) || this.is('!', next) || this.is('~', next) || this.is('-', next)) {
          const type = this.peek().value;
          this.i += 3;
          return { t: 'cast', type, expr: this.unary() };
        }
      }
    }
    return this.postfix(this.primary());
  }

  protected postfix(e: Expr): Expr {
    for (;;) {
      const t = this.tok;
      if (t.type !== 'op') return e;
      if (t.value === '.' || t.value === '.?') {
        this.i++;
        e = { t: 'member', obj: e, name: this.name(), nullSafe: t.value === '.?' };
      } else if (t.value === '[') {
        this.i++;
        const index = this.expression();
        this.expect(']');
        e = { t: 'index', obj: e, index };
      } else if (t.value === '(' && !t.newlineBefore) {
        this.i++;
        e = { t: 'call', callee: e, args: this.args(')') };
      } else if ((t.value === '++' || t.value === '--') && !t.newlineBefore) {
        if (!(e.t === 'id' || e.t === 'member' || e.t === 'index')) this.fail(`${t.value} needs a variable`, t);
        this.i++;
        e = { t: 'update', op: t.value, prefix: false, target: e };
      } else return e;
    }
  }

  protected args(close: string): Expr[] {
    const args: Expr[] = [];
    if (this.accept(close)) return args;
    do {
      if (this.is(close)) break; // trailing comma
      args.push(this.expression());
    } while (this.accept(','));
    this.expect(close);
    return args;
  }

  protected mapKey(): string {
    const t = this.tok;
    if (t.type === 'id' || t.type === 'str') {
      this.i++;
      return t.value;
    }
    if (t.type === 'num') {
      this.i++;
      return String(t.num);
    }
    return this.fail(`expected a map key but found ${this.describe(t)}`);
  }

  protected primary(): Expr {
    const t = this.tok;
    switch (t.type) {
      case 'num':
        this.i++;
        return { t: 'num', value: t.num, isDouble: t.isDouble, kind: literalKind(t.value, t.isDouble, t.num) };
      case 'str':
        this.i++;
        return { t: 'str', value: t.value };
      case 'id':
        this.i++;
        if (t.value === 'true' || t.value === 'false') return { t: 'bool', value: t.value === 'true' };
        if (t.value === 'null' || t.value === 'undefined') return { t: 'null' };
        if (t.value === 'new') return this.newExpr();
        if ((t.value === 'java' || t.value === 'javax') && this.is('.')) {
          // a fully qualified class (java.util.Arrays): the class's simple name
          while (this.is('.') && this.peek().type === 'id' && /^[a-z]/.test(this.peek().value)) this.i += 2;
          if (this.is('.') && this.peek().type === 'id') {
            this.i++;
            return { t: 'id', name: this.name() };
          }
        }
        if (STATEMENT_WORDS.has(t.value) || t.value === 'var' || t.value === 'function' || t.value === 'if' || t.value === 'for' || t.value === 'while') {
          this.fail(`unexpected ${this.describe(t)}`, t);
        }
        return { t: 'id', name: t.value };
      case 'op':
        if (t.value === '(') {
          this.i++;
          const e = this.expression();
          this.expect(')');
          return e;
        }
        if (t.value === '[') {
          this.i++;
          if (this.accept(':')) {
            this.expect(']');
            return { t: 'map', entries: [] };
          }
          if (this.accept(']')) return { t: 'list', items: [] };
          // MVEL inline map [k: v, …] or list [a, b]
          if ((this.tok.type === 'id' || this.tok.type === 'str' || this.tok.type === 'num') && this.is(':', this.peek())) return this.mapEntries(']');
          return { t: 'list', items: this.args(']') };
        }
        if (t.value === '{') {
          this.i++;
          if (this.is('}') || ((this.tok.type === 'id' || this.tok.type === 'str' || this.tok.type === 'num') && this.is(':', this.peek()))) return this.mapEntries('}');
          return { t: 'list', items: this.args('}') }; // Java array initialiser {1, 2, 3}
        }
        break;
      default:
        break;
    }
    return this.fail(`unexpected ${this.describe(t)}`, t);
  }

  protected mapEntries(close: string): Expr {
    const entries: Array<{ key: string; value: Expr }> = [];
    if (this.accept(close)) return { t: 'map', entries };
    do {
      if (this.is(close)) break;
      const key = this.mapKey();
      this.expect(':');
      const startsParenthesised = this.is('(');
      const value = this.expression();
      // MVEL quirk, kept because ThingsBoard's results depend on it: in an inline map, an unparenthesised
      // `k: a ? "x" : y` is split at its ':' into `k: (a ? "x")`, which is null (so k is dropped), and `"x": y`.
      const quirk = value.t === 'cond' && !(startsParenthesised && this.is(')', this.toks[this.i - 1]));
      if (!quirk) entries.push({ key, value });
      else {
        entries.push({ key, value: { t: 'null' } });
        const then = value.t === 'cond' ? value.then : value;
        const splitKey = then.t === 'str' ? then.value : then.t === 'num' ? String(then.value) : then.t === 'id' ? then.name : null;
        if (splitKey !== null && value.t === 'cond') entries.push({ key: splitKey, value: value.else });
      }
    } while (this.accept(','));
    this.expect(close);
    return { t: 'map', entries };
  }

  protected newExpr(): Expr {
    let type = this.name();
    while (this.accept('.')) type = this.name();
    if (this.is('<')) {
      // generic arguments are ignored: new ArrayList<Integer>()
      let depth = 0;
      do {
        if (this.is('<')) depth++;
        else if (this.is('>')) depth--;
        else if (this.is('>>')) depth -= 2;
        else if (this.tok.type === 'eof') this.fail('unterminated type arguments');
        this.i++;
      } while (depth > 0);
    }
    if (this.accept('[')) {
      if (this.accept(']')) {
        while (this.accept('[')) this.expect(']');
        this.expect('{');
        return { t: 'newArray', type, size: null, init: this.args('}') };
      }
      const size = this.expression();
      this.expect(']');
      return { t: 'newArray', type, size, init: null };
    }
    this.expect('(');
    return { t: 'new', type, args: this.args(')') };
  }
}
