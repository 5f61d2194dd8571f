import type { Expr, Stmt } from './tbel-ast';
import { tokenize } from './tbel-lexer';
import { STATEMENT_WORDS, TbelExpressionParser } from './tbel-expression-parser';

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

export function parseTbel(source: string): Stmt[] {
  return new TbelParser(tokenize(source)).script();
}

/** The statement half of the parser; expressions and the token cursor are TbelExpressionParser's. */
class TbelParser extends TbelExpressionParser {
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
}
