import { literalKind } from './tbel-types';
import type { Expr, Stmt } from './tbel-ast';
import { TbelSyntaxError, tokenize, type Token } from './tbel-lexer';

/**
 * Recursive-descent parser for TBEL as ThingsBoard documents and its users write it (grammar in docs/tbel.md):
 *
 *   script     := statement*
 *   statement  := 'var' decl (',' decl)* | Type decl (',' decl)*          (Java-typed: `int i = 0`)
 *               | ('function' | 'def') name '(' [Type] param, … ')' block
 *               | 'if' '(' expr ')' statement ['else' statement]
 *               | 'for' '(' init ';' expr ';' expr, … ')' statement
 *               | ('for' | 'foreach') '(' [Type] name ':' expr ')' statement
 *               | 'while' … | 'do' … 'while' … | 'switch' … | 'try' … 'catch' … 'finally' …
 *               | 'return' [expr] | 'break' | 'continue' | 'throw' expr | block | expr
 *   statements end at ';', at a line break or before '}' (TBEL is lenient, as MVEL is)
 *   expr       := Java precedence: assignment, ?:, ||, &&, |, ^, &, == != === !==, < > <= >= instanceof,
 *                 << >> >>>, + -, * / %, unary (! - + ~ ++ -- casts), postfix (. .? [] () ++ --)
 *   primary    := number | string | true | false | null | name | '(' expr ')' | '[' list or map ']'
 *               | '{' map '}' | 'new' Type '(' args ')' | 'new' Type '[' size ']' | 'new' Type '[]' '{' … '}'
 *
 * Map literals are `{k: v}` (JavaScript style) or `[k: v]` / `[:]` (MVEL style); list literals `[a, b]`.
 */
const TYPE_NAMES = new Set([
  'int', 'long', 'double', 'float', 'short', 'byte', 'char', 'boolean', 'String', 'Integer', 'Long', 'Double', 'Float',
  'Short', 'Byte', 'Character', 'Boolean', 'Object', 'Number', 'List', 'Map', 'ArrayList', 'HashMap', 'LinkedHashMap', 'Set', 'HashSet', 'def', 'var',
]);
/** Words that can never be a Java type in a declaration (`return x`, `new X`). */
const STATEMENT_WORDS = new Set(['return', 'new', 'throw', 'else', 'case', 'default', 'instanceof', 'true', 'false', 'null', 'break', 'continue', 'do', 'in']);
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '>>>=']);
const BINARY_LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!=', '===', '!=='], ['<', '>', '<=', '>=', 'instanceof'], ['<<', '>>', '>>>'], ['+', '-'], ['*', '/', '%']];

export function parseTbel(source: string): Stmt[] {
  return new Parser(tokenize(source)).script();
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private get tok(): Token {
    return this.toks[this.i];
  }
  private peek(k = 1): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  private is(value: string, tok = this.tok): boolean {
    return (tok.type === 'op' || tok.type === 'id') && tok.value === value;
  }
  private fail(msg: string, tok = this.tok): never {
    throw new TbelSyntaxError(msg, tok.line, tok.col);
  }
  private describe(tok: Token): string {
    return tok.type === 'eof' ? 'end of script' : tok.type === 'str' ? `string "${tok.value}"` : `"${tok.value}"`;
  }
  private expect(value: string): Token {
    if (!this.is(value)) this.fail(`expected "${value}" but found ${this.describe(this.tok)}`);
    return this.toks[this.i++];
  }
  private accept(value: string): boolean {
    if (!this.is(value)) return false;
    this.i++;
    return true;
  }
  private name(): string {
    const t = this.tok;
    if (t.type !== 'id') this.fail(`expected a name but found ${this.describe(t)}`);
    this.i++;
    return t.value;
  }

  script(): Stmt[] {
    const body: Stmt[] = [];
    while (this.tok.type !== 'eof') body.push(this.statement());
    return body;
  }

  /** Ends a simple statement: `;`, or a line break / `}` / end of script before the next token. */
  private end(): void {
    if (this.accept(';')) return;
    if (this.tok.type === 'eof' || this.is('}') || this.is('else') || this.tok.newlineBefore) return;
    this.fail(`expected ";" but found ${this.describe(this.tok)}`);
  }

  private block(): Stmt[] {
    this.expect('{');
    const body: Stmt[] = [];
    while (!this.is('}')) {
      if (this.tok.type === 'eof') this.fail('missing "}" before the end of the script');
      body.push(this.statement());
    }
    this.i++;
    return body;
  }

  /** Whether a Java-typed declaration starts here (`int x`, `String[] a`, `List<Integer> l`); returns its length in tokens. */
  private typedDeclLength(): number {
    const t = this.tok;
    if (t.type !== 'id' || STATEMENT_WORDS.has(t.value)) return 0;
    let k = 1;
    // dotted type names (java.util.List)
    while (this.is('.', this.peek(k)) && this.peek(k + 1).type === 'id') k += 2;
    if (this.is('<', this.peek(k))) {
      let depth = 0;
      for (;;) {
        const p = this.peek(k);
        if (p.type === 'eof') return 0;
        if (this.is('<', p)) depth++;
        else if (this.is('>', p)) depth--;
        else if (this.is('>>', p)) depth -= 2;
        else if (!(p.type === 'id' || this.is(',', p) || this.is('.', p) || this.is('?', p) || this.is('[', p) || this.is(']', p))) return 0;
        k++;
        if (depth <= 0) break;
      }
    }
    while (this.is('[', this.peek(k)) && this.is(']', this.peek(k + 1))) k += 2;
    const nameTok = this.peek(k);
    if (nameTok.type !== 'id' || STATEMENT_WORDS.has(nameTok.value) || nameTok.newlineBefore) return 0;
    const after = this.peek(k + 1);
    if (this.is('=', after) || this.is(';', after) || this.is(',', after) || this.is(':', after) || this.is(')', after) || after.newlineBefore || after.type === 'eof' || this.is('}', after)) return k;
    return 0;
  }

  /** `name [= expr], …` after `var` or a Java type; `type` is that type when it is one plain name (`int`). */
  private declarations(type?: string): Stmt {
    const decls: Array<{ name: string; init: Expr | null; type?: string }> = [];
    do {
      const name = this.name();
      let array = false;
      while (this.accept('[')) {
        this.expect(']'); // int a[] = …
        array = true;
      }
      const init = this.accept('=') ? this.expression() : null;
      decls.push(type && !array ? { name, init, type } : { name, init });
    } while (this.accept(','));
    return { t: 'var', decls };
  }

  /** The declared type of a typed declaration `k` tokens long: one plain name, not `var`/`def`. */
  private declaredType(k: number): string | undefined {
    const t = this.tok.value;
    return k === 1 && t !== 'var' && t !== 'def' ? t : undefined;
  }

  private statement(): Stmt {
    const t = this.tok;
    if (t.type === 'op') {
      if (this.is('{')) {
        // a block, unless it is a map literal used as a statement (rare; `{a: 1}` as the script's value)
        if (this.peek().type !== 'eof' && (this.peek().type === 'str' || this.peek().type === 'id') && this.is(':', this.peek(2))) {
          const expr = this.expression();
          this.end();
          return { t: 'expr', expr };
        }
        return { t: 'block', body: this.block() };
      }
      if (this.accept(';')) return { t: 'empty' };
    }
    if (t.type === 'id') {
      switch (t.value) {
        case 'var':
        case 'let':
        case 'const':
          if (this.peek().type === 'id') {
            this.i++;
            const s = this.declarations();
            this.end();
            return s;
          }
          break;
        case 'function':
        case 'def':
          if (this.peek().type === 'id' && this.is('(', this.peek(2))) return this.functionDecl();
          break;
        case 'if': {
          this.i++;
          this.expect('(');
          const test = this.expression();
          this.expect(')');
          const then = this.statement();
          const otherwise = this.accept('else') ? this.statement() : null;
          return { t: 'if', test, then, else: otherwise };
        }
        case 'for':
        case 'foreach':
          return this.forStatement();
        case 'while': {
          this.i++;
          this.expect('(');
          const test = this.expression();
          this.expect(')');
          return { t: 'while', test, body: this.statement() };
        }
        case 'do': {
          this.i++;
          const body = this.statement();
          this.expect('while');
          this.expect('(');
          const test = this.expression();
          this.expect(')');
          this.end();
          return { t: 'do', body, test };
        }
        case 'switch':
          return this.switchStatement();
        case 'break':
          this.i++;
          this.end();
          return { t: 'break' };
        case 'continue':
          this.i++;
          this.end();
          return { t: 'continue' };
        case 'return': {
          this.i++;
          const bare = this.is(';') || this.is('}') || this.tok.type === 'eof' || this.tok.newlineBefore;
          const arg = bare ? null : this.expression();
          this.end();
          return { t: 'return', arg };
        }
        case 'throw': {
          this.i++;
          const arg = this.expression();
          this.end();
          return { t: 'throw', arg };
        }
        case 'try':
          return this.tryStatement();
        default: {
          const k = this.typedDeclLength();
          if (k > 0) {
            const type = this.declaredType(k);
            this.i += k;
            const s = this.declarations(type);
            this.end();
            return s;
          }
        }
      }
    }
    const expr = this.expression();
    this.end();
    return { t: 'expr', expr };
  }

  private functionDecl(): Stmt {
    const pos = { line: this.tok.line, col: this.tok.col };
    this.i++;
    const name = this.name();
    this.expect('(');
    const params: string[] = [];
    if (!this.is(')')) {
      do {
        const k = this.typedDeclLength();
        if (k > 0) this.i += k;
        params.push(this.name());
      } while (this.accept(','));
    }
    this.expect(')');
    return { t: 'function', name, params, body: this.block(), pos };
  }

  private forStatement(): Stmt {
    const keyword = this.tok.value;
    this.i++;
    this.expect('(');
    // for-each: `(x : list)`, `(var x : list)`, `(int x : list)`
    let k = 0;
    if (this.is('var') && this.peek().type === 'id' && this.is(':', this.peek(2))) k = 1;
    else if (this.tok.type === 'id' && this.is(':', this.peek())) k = 0;
    else k = this.typedDeclLength();
    if (this.peek(k).type === 'id' && this.is(':', this.peek(k + 1)) && this.peek(k + 1).type === 'op') {
      this.i += k;
      const name = this.name();
      this.expect(':');
      const iter = this.expression();
      this.expect(')');
      return { t: 'foreach', name, iter, body: this.statement() };
    }
    if (keyword === 'foreach') this.fail('foreach needs the form foreach (item : collection)');
    let init: Stmt | null = null;
    if (!this.is(';')) {
      if ((this.is('var') || this.is('let')) && this.peek().type === 'id') {
        this.i++;
        init = this.declarations();
      } else {
        const dk = this.typedDeclLength();
        if (dk > 0) {
          const type = this.declaredType(dk);
          this.i += dk;
          init = this.declarations(type);
        } else {
          const exprs = [this.expression()];
          while (this.accept(',')) exprs.push(this.expression());
          init = exprs.length === 1 ? { t: 'expr', expr: exprs[0] } : { t: 'block', body: exprs.map((e) => ({ t: 'expr', expr: e })) };
        }
      }
    }
    this.expect(';');
    const test = this.is(';') ? null : this.expression();
    this.expect(';');
    const update: Expr[] = [];
    if (!this.is(')')) {
      do update.push(this.expression());
      while (this.accept(','));
    }
    this.expect(')');
    return { t: 'for', init, test, update, body: this.statement() };
  }

  private switchStatement(): Stmt {
    this.i++;
    this.expect('(');
    const disc = this.expression();
    this.expect(')');
    this.expect('{');
    const cases: Array<{ test: Expr | null; body: Stmt[] }> = [];
    while (!this.accept('}')) {
      let test: Expr | null = null;
      if (this.accept('case')) test = this.expression();
      else if (!this.accept('default')) this.fail(`expected "case" or "default" but found ${this.describe(this.tok)}`);
      this.expect(':');
      const body: Stmt[] = [];
      while (!this.is('case') && !this.is('default') && !this.is('}')) {
        if (this.tok.type === 'eof') this.fail('missing "}" at the end of the switch');
        body.push(this.statement());
      }
      cases.push({ test, body });
    }
    return { t: 'switch', disc, cases };
  }

  private tryStatement(): Stmt {
    this.i++;
    const block = this.block();
    let param: string | null = null;
    let handler: Stmt[] | null = null;
    let finalizer: Stmt[] | null = null;
    if (this.accept('catch')) {
      this.expect('(');
      const k = this.typedDeclLength();
      if (k > 0) this.i += k;
      param = this.name();
      this.expect(')');
      handler = this.block();
    }
    if (this.accept('finally')) finalizer = this.block();
    if (!handler && !finalizer) this.fail('try needs a catch or finally block');
    return { t: 'try', block, param, handler, finalizer };
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

  private ternary(): Expr {
    const test = this.binary(0);
    if (!this.accept('?')) return test;
    const then = this.expression();
    this.expect(':');
    return { t: 'cond', test, then, else: this.expression() };
  }

  private binary(level: number): Expr {
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

  private unary(): Expr {
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

  private postfix(e: Expr): Expr {
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

  private args(close: string): Expr[] {
    const args: Expr[] = [];
    if (this.accept(close)) return args;
    do {
      if (this.is(close)) break; // trailing comma
      args.push(this.expression());
    } while (this.accept(','));
    this.expect(close);
    return args;
  }

  private mapKey(): string {
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

  private primary(): Expr {
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

  private mapEntries(close: string): Expr {
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

  private newExpr(): Expr {
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
