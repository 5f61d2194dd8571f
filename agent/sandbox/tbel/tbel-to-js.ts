import type { Expr, Stmt } from './tbel-ast';
import { parseTbel } from './tbel-parser';
import { assignedIn, declaredIn, withImplicitReturn } from './tbel-scope';
import { JAVA_CLASSES, TBEL_FUNCTIONS } from './tbel-runtime';
import { TbelTypes, isDecimalKind, isIntegerKind, isNumberKind } from './tbel-types';

/**
 * Translates a TBEL script into one JavaScript function expression for the QuickJS sandbox. What differs from
 * JavaScript is made explicit in the output, through the runtime the sandbox installs (tbel-runtime.ts):
 *  - member and index reads go through `$g` (a missing map key is null, a list index out of range throws,
 *    `list.size`, `map.keys`… are TBEL properties); `a.?b` chains through `$gn` (null stops the chain);
 *  - method calls go through `$c`, which dispatches on the receiver (list, map, string, number, date) to the
 *    Java/TBEL method of that name (`add`, `put`, `substring`, `entrySet`…);
 *  - `==` is TBEL's value equality (`$eq`: numbers by value across int/double, "1" == 1), `&&`/`||` yield
 *    booleans, casts and `instanceof` take Java types, `new` builds lists, maps, sets and dates;
 *  - free names that are helpers (`parseBytesToInt`) or Java classes (`Integer`, `Math`, `String`) resolve to
 *    the runtime unless the script declares them itself;
 *  - a variable assigned without `var` is declared (TBEL creates it), and the value of the last statement is
 *    the result when the script (or a function) has no `return` there, as in MVEL.
 */
export interface TbelTranslation {
  /** a JavaScript expression evaluating to the script's function */
  js: string;
}

const JS_RESERVED = new Set([
  'arguments', 'await', 'case', 'catch', 'class', 'const', 'debugger', 'default', 'delete', 'enum', 'eval', 'export', 'extends',
  'finally', 'function', 'implements', 'import', 'in', 'interface', 'let', 'package', 'private', 'protected', 'public', 'static',
  'super', 'this', 'typeof', 'void', 'with', 'yield', 'NaN', 'Infinity', 'undefined', 'globalThis', 'Object', 'Array', 'Function',
  'Reflect', 'Proxy', 'Symbol', 'Promise', 'JSON',
]);
const jsId = (name: string): string => (name.startsWith('$') ? `$u${name}` : JS_RESERVED.has(name) ? `$r_${name}` : name);
const lit = (s: string): string => JSON.stringify(s);

class Emitter {
  /** every name the script declares anywhere: these shadow helpers and Java classes */
  private readonly userNames = new Set<string>();
  private loop = 0;
  private readonly types: TbelTypes;
  /**
   * In the function being emitted: names its `var`s declare that the enclosing scope has too. MVEL creates a
   * function's variable when its `var` runs, so until then the name is the enclosing scope's variable (a
   * JavaScript `var` would be the local one from the start, undefined). Such a local is `$l_<name>`,
   * undefined until declared, and the name means whichever exists.
   */
  private rebound = new Set<string>();

  /** `f(name)` for an expression on a variable, for a name that may be the enclosing scope's or a later local. */
  private onVariable(name: string, f: (js: string) => string): string {
    if (!this.rebound.has(name)) return f(jsId(name));
    const local = `$l_${jsId(name)}`;
    return `(${local} === undefined ? ${f(jsId(name))} : ${f(local)})`;
  }

  constructor(
    program: Stmt[],
    private readonly params: readonly string[],
    bytesParam?: string,
  ) {
    params.forEach((p) => this.userNames.add(p));
    const all = (stmts: Stmt[]): void => {
      declaredIn(stmts, this.userNames);
      for (const s of stmts) this.functionsIn(s).forEach((f) => f.t === 'function' && (f.params.forEach((p) => this.userNames.add(p)), all(f.body)));
    };
    all(program);
    this.types = new TbelTypes(program, params, this.userNames, bytesParam);
  }

  /** A value given to a variable declared with a Java number type is converted to it, as MVEL does. */
  private converted(name: string, js: string): string {
    const k = this.types.declaredKind(name);
    return k === null ? js : `$cast(${lit(k)}, ${js})`;
  }

  /** An expression as text: a Double or Float shows as Java shows it ("1.0"), when its type is known. */
  private asText(e: Expr, js: string): string {
    const k = this.types.kindOf(e);
    return isDecimalKind(k) ? `$jd(${js}, ${k === 'float'})` : js;
  }

  private functionsIn(s: Stmt): Stmt[] {
    const out: Stmt[] = [];
    const visit = (x: Stmt | null): void => {
      if (!x) return;
      if (x.t === 'function') out.push(x);
      else if (x.t === 'block') x.body.forEach(visit);
      else if (x.t === 'if') {
        visit(x.then);
        visit(x.else);
      }
    };
    visit(s);
    return out;
  }

  program(body: Stmt[], prologue: string): string {
    const declared = new Set<string>(this.params);
    declaredIn(body, declared);
    const implicit = new Set<string>();
    assignedIn(body, implicit);
    const hoist = [...implicit].filter((n) => !declared.has(n));
    hoist.forEach((n) => declared.add(n));
    return `${prologue}${hoist.length ? `var ${hoist.map((n) => `${jsId(n)} = null`).join(', ')};\n` : ''}${this.stmts(withImplicitReturn(body), declared)}`;
  }

  private stmts(list: Stmt[], outer: Set<string>): string {
    return list.map((s) => this.stmt(s, outer)).join('\n');
  }

  private stmt(s: Stmt, outer: Set<string>): string {
    switch (s.t) {
      case 'var': {
        const value = (d: { name: string; init: Expr | null }): string => (d.init ? this.converted(d.name, this.expr(d.init)) : 'null');
        const own = s.decls.filter((d) => !this.rebound.has(d.name));
        if (own.length === s.decls.length) return `var ${own.map((d) => `${jsId(d.name)} = ${value(d)}`).join(', ')};`;
        // a later local (see rebound): declared from here on
        const assign = s.decls.map((d) => `${this.rebound.has(d.name) ? `$l_${jsId(d.name)}` : jsId(d.name)} = ${value(d)}`).join(', ');
        return own.length === 0 ? `${assign};` : `var ${own.map((d) => jsId(d.name)).join(', ')}; ${assign};`;
      }
      case 'function': {
        const vars = new Set<string>();
        declaredIn(s.body, vars, true);
        const rebound = new Set([...vars].filter((n) => outer.has(n) && !s.params.includes(n)));
        const local = new Set<string>(s.params);
        declaredIn(s.body, local);
        rebound.forEach((n) => local.delete(n));
        const assigned = new Set<string>();
        assignedIn(s.body, assigned);
        const extra = [...assigned].filter((n) => !local.has(n) && !outer.has(n));
        const scope = new Set([...outer, ...local, ...extra]);
        const pre =
          (extra.length ? `var ${extra.map((n) => `${jsId(n)} = null`).join(', ')};\n` : '') +
          (rebound.size ? `var ${[...rebound].map((n) => `$l_${jsId(n)}`).join(', ')};\n` : '');
        const saved = this.rebound;
        this.rebound = rebound;
        try {
          return `function ${jsId(s.name)}(${s.params.map(jsId).join(', ')}) {\n${pre}${this.stmts(withImplicitReturn(s.body), scope)}\n}`;
        } finally {
          this.rebound = saved;
        }
      }
      case 'if':
        return `if (${this.expr(s.test)}) ${this.nested(s.then, outer)}${s.else ? ` else ${this.nested(s.else, outer)}` : ''}`;
      case 'for': {
        const init = s.init ? this.stmt(s.init, outer).replace(/;$/, '') : '';
        const initJs = s.init?.t === 'block' ? s.init.body.map((x) => (x.t === 'expr' ? this.expr(x.expr) : '')).join(', ') : init;
        return `for (${initJs}; ${s.test ? this.expr(s.test) : ''}; ${s.update.map((u) => this.expr(u)).join(', ')}) ${this.nested(s.body, outer)}`;
      }
      case 'foreach': {
        const n = this.loop++;
        return `for (var $it${n} = $iter(${this.expr(s.iter)}), $i${n} = 0; $i${n} < $it${n}.length; $i${n}++) { var ${jsId(s.name)} = $it${n}[$i${n}];\n${this.nested(s.body, outer)}\n}`;
      }
      case 'while':
        return `while (${this.expr(s.test)}) ${this.nested(s.body, outer)}`;
      case 'do':
        return `do ${this.nested(s.body, outer)} while (${this.expr(s.test)});`;
      case 'switch':
        return `switch (${this.expr(s.disc)}) {\n${s.cases.map((c) => `${c.test ? `case ${this.expr(c.test)}:` : 'default:'}\n${this.stmts(c.body, outer)}`).join('\n')}\n}`;
      case 'break':
        return 'break;';
      case 'continue':
        return 'continue;';
      case 'return':
        return s.arg ? `return ${this.expr(s.arg)};` : 'return;';
      case 'throw':
        return `throw $throwable(${this.expr(s.arg)});`;
      case 'try': {
        let out = `try {\n${this.stmts(s.block, outer)}\n}`;
        if (s.handler) out += ` catch (${s.param ? jsId(s.param) : '$e'}) {\n${s.param ? `${jsId(s.param)} = $caught(${jsId(s.param)});\n` : ''}${this.stmts(s.handler, outer)}\n}`;
        if (s.finalizer) out += ` finally {\n${this.stmts(s.finalizer, outer)}\n}`;
        return out;
      }
      case 'block':
        return `{\n${this.stmts(s.body, outer)}\n}`;
      case 'expr':
        return `${this.expr(s.expr)};`;
      case 'empty':
        return ';';
    }
  }

  private nested(s: Stmt, outer: Set<string>): string {
    return s.t === 'block' ? this.stmt(s, outer) : `{\n${this.stmt(s, outer)}\n}`;
  }

  private isClass(e: Expr): e is { t: 'id'; name: string } {
    return e.t === 'id' && JAVA_CLASSES.includes(e.name) && !this.userNames.has(e.name);
  }

  /** Whether a `.?` occurs earlier in this member/index/call chain (null then ends the whole chain). */
  private nullSafeChain(e: Expr): boolean {
    for (let x: Expr = e; ; ) {
      if (x.t === 'member') {
        if (x.nullSafe) return true;
        x = x.obj;
      } else if (x.t === 'index') x = x.obj;
      else if (x.t === 'call' && x.callee.t === 'member') x = x.callee.obj;
      else return false;
    }
  }

  private args(list: Expr[]): string {
    return list.map((a) => this.expr(a)).join(', ');
  }

  private target(e: Expr): string {
    if (e.t === 'id') return jsId(e.name);
    if (e.t === 'member') return `${this.expr(e.obj)}[${lit(e.name)}]`;
    if (e.t === 'index') return `${this.expr(e.obj)}[$key(${this.expr(e.index)})]`;
    return this.expr(e);
  }

  expr(e: Expr): string {
    switch (e.t) {
      case 'num':
        return e.value < 0 || Object.is(e.value, -0) ? `(${e.value})` : String(e.value);
      case 'str':
        return lit(e.value);
      case 'bool':
        return String(e.value);
      case 'null':
        return 'null';
      case 'id':
        if (this.rebound.has(e.name)) return this.onVariable(e.name, (v) => v);
        if (this.userNames.has(e.name)) return jsId(e.name);
        if (JAVA_CLASSES.includes(e.name)) return `$J.${e.name}`;
        if (TBEL_FUNCTIONS.includes(e.name)) return `$T.${e.name}`;
        return jsId(e.name);
      case 'list':
        return `[${this.args(e.items)}]`;
      case 'map':
        if (e.entries.some((x) => !(x.value.t === 'num' || x.value.t === 'str' || x.value.t === 'bool' || x.value.t === 'list' || x.value.t === 'map'))) {
          return `$map({${e.entries.map((x) => `${x.key === '__proto__' ? `[${lit(x.key)}]` : lit(x.key)}: ${this.expr(x.value)}`).join(', ')}})`;
        }
        return `{${e.entries.map((x) => `${x.key === '__proto__' ? `[${lit(x.key)}]` : lit(x.key)}: ${this.expr(x.value)}`).join(', ')}}`;
      case 'member':
        if (this.isClass(e.obj)) return `$J.${e.obj.name}[${lit(e.name)}]`;
        return `${e.nullSafe || this.nullSafeChain(e.obj) ? '$gn' : '$g'}(${this.expr(e.obj)}, ${lit(e.name)})`;
      case 'index':
        return `${this.nullSafeChain(e.obj) ? '$gn' : '$g'}(${this.expr(e.obj)}, ${this.expr(e.index)})`;
      case 'call': {
        const c = e.callee;
        if (c.t === 'id') {
          if (this.userNames.has(c.name)) return `${jsId(c.name)}(${this.args(e.args)})`;
          if (TBEL_FUNCTIONS.includes(c.name)) return `$T.${c.name}(${this.args(e.args)})`;
          return `$nofn(${lit(c.name)})(${this.args(e.args)})`;
        }
        if (c.t === 'member') {
          if (this.isClass(c.obj)) {
            if (e.args.length === 1 && ((c.obj.name === 'String' && c.name === 'valueOf') || ((c.obj.name === 'Double' || c.obj.name === 'Float') && c.name === 'toString'))) {
              return `$J.${c.obj.name}.$m(${lit(c.name)})(${this.asText(e.args[0], this.expr(e.args[0]))})`;
            }
            return `$J.${c.obj.name}.$m(${lit(c.name)})(${this.args(e.args)})`;
          }
          if (c.name === 'toString' && e.args.length === 0 && isDecimalKind(this.types.kindOf(c.obj)) && !this.nullSafeChain(c.obj) && !c.nullSafe) {
            return this.asText(c.obj, this.expr(c.obj));
          }
          const safe = c.nullSafe || this.nullSafeChain(c.obj);
          const entry = safe ? '$cn' : e.args.length <= 2 ? `$c${e.args.length}` : '$c';
          return `${entry}(${this.expr(c.obj)}, ${lit(c.name)}${e.args.length ? `, ${this.args(e.args)}` : ''})`;
        }
        return `(${this.expr(c)})(${this.args(e.args)})`;
      }
      case 'new':
        return `$new(${lit(e.type)}, [${this.args(e.args)}])`;
      case 'newArray':
        return e.init ? `[${this.args(e.init)}]` : `$arr(${this.expr(e.size!)}, ${lit(e.type)})`;
      case 'unary':
        return `(${e.op}${this.expr(e.arg)})`;
      case 'update':
        if (e.target.t === 'id') return this.onVariable(e.target.name, (v) => (e.prefix ? `(${e.op}${v})` : `(${v}${e.op})`));
        return e.prefix ? `(${e.op}${this.target(e.target)})` : `(${this.target(e.target)}${e.op})`;
      case 'binary': {
        const l = this.expr(e.left);
        const r = this.expr(e.right);
        // both sides known to be numbers: JavaScript's operator is TBEL's (no runtime dispatch)
        const numeric = isNumberKind(this.types.kindOf(e.left)) && isNumberKind(this.types.kindOf(e.right));
        switch (e.op) {
          case '==':
          case '===':
            return numeric ? `(${l} === ${r})` : `$eq(${l}, ${r})`;
          case '!=':
          case '!==':
            return numeric ? `(${l} !== ${r})` : `!$eq(${l}, ${r})`;
          case '&&':
          case '||':
            return `(!!${l} ${e.op} !!${r})`;
          case '+': {
            const kl = this.types.kindOf(e.left);
            const kr = this.types.kindOf(e.right);
            if (kl === 'string') return `$add(${l}, ${this.asText(e.right, r)})`;
            if (kr === 'string') return `$add(${this.asText(e.left, l)}, ${r})`;
            return numeric ? `(${l} + ${r})` : `$add(${l}, ${r})`;
          }
          case '/': {
            const bits = this.types.integerDivision(e.left, e.right);
            if (bits !== null) return `$idiv(${l}, ${r}, ${bits})`;
            const kr = this.types.kindOf(e.right);
            // an element of a byte array (known only when it runs) divided by an integer
            if (e.left.t === 'index' && this.types.kindOf(e.left) === null && isIntegerKind(kr) && kr !== 'byte' && !this.nullSafeChain(e.left.obj)) {
              return `$bdiv(${this.expr(e.left.obj)}, ${this.expr(e.left.index)}, ${r}, ${kr === 'long' ? 64 : 32})`;
            }
            return `(${l} / ${r})`;
          }
          default:
            return `(${l} ${e.op} ${r})`;
        }
      }
      case 'assign':
        if (e.target.t === 'member' || e.target.t === 'index') {
          // through $set: a map entry set to null is removed (TBEL's ExecutionHashMap), a list index is checked
          const k = e.target.t === 'member' ? lit(e.target.name) : this.expr(e.target.index);
          return `$set(${this.expr(e.target.obj)}, ${k}, ${lit(e.op)}, ${this.expr(e.value)})`;
        }
        if (e.target.t === 'id' && this.types.declaredKind(e.target.name) !== null) {
          // a typed variable converts what it is given, compound results too (`int x; x /= 2`)
          const name = e.target.name;
          const value = this.expr(e.value);
          const op = e.op.slice(0, -1);
          return this.onVariable(name, (v) => `(${v} = ${this.converted(name, op ? `(${v} ${op} ${value})` : value)})`);
        }
        if (e.op === '+=') {
          const value = this.types.kindOf(e.target) === 'string' ? this.asText(e.value, this.expr(e.value)) : this.expr(e.value);
          const numeric = isNumberKind(this.types.kindOf(e.target)) && isNumberKind(this.types.kindOf(e.value));
          if (e.target.t === 'id') return this.onVariable(e.target.name, (v) => (numeric ? `(${v} += ${value})` : `(${v} = $add(${v}, ${value}))`));
          return `(${this.target(e.target)} = $add(${this.expr(e.target)}, ${value}))`;
        }
        if (e.target.t === 'id') {
          const value = this.expr(e.value);
          return this.onVariable(e.target.name, (v) => `(${v} ${e.op} ${value})`);
        }
        return `(${this.target(e.target)} ${e.op} ${this.expr(e.value)})`;
      case 'cond':
        return `(${this.expr(e.test)} ? ${this.expr(e.then)} : ${this.expr(e.else)})`;
      case 'cast':
        return `$cast(${lit(e.type)}, ${this.expr(e.expr)})`;
      case 'instanceof':
        return `$io(${this.expr(e.expr)}, ${lit(e.type)})`;
    }
  }
}

/** The runtime's entry points, bound once per script as locals of the translated function's closure. */
const RUNTIME_LOCALS = ['g', 'gn', 'c', 'cn', 'eq', 'add', 'set', 'map', 'io', 'cast', 'new', 'arr', 'iter', 'key', 'nofn', 'throwable', 'caught', 'T', 'J', 'c0', 'c1', 'c2', 'idiv', 'bdiv', 'jd'];

/**
 * Parses and translates; throws TbelSyntaxError with the TBEL line and column. `params` are the names the
 * script's body receives; `bytesParam` is converted to TBEL's signed bytes first (converters get a byte[]).
 */
export function translateTbel(source: string, params: readonly string[], bytesParam?: string): TbelTranslation {
  const program = parseTbel(source);
  const emitter = new Emitter(program, params, bytesParam);
  // `$signed` is true when the host converted the bytes already (signedPayloadArgs): converting 100 bytes in
  // the interpreter costs more than a small converter's own work
  const b = bytesParam ? jsId(bytesParam) : '';
  const prologue = bytesParam ? `${b} = $signed === true ? $R.signedBytes(${b}) : $R.bytes(${b});\n` : '';
  const locals = RUNTIME_LOCALS.map((n) => `$${n} = $R.${n}`).join(', ');
  const body = emitter.program(program, prologue);
  const fnParams = [...params.map(jsId), ...(bytesParam ? ['$signed'] : [])];
  return { js: `(function ($R) { var ${locals};\nreturn function (${fnParams.join(', ')}) {\n${body}\n}; })(globalThis.$tbel)` };
}
