import type { Expr, Stmt } from './tbel-ast';

/**
 * What the translator needs to know of a TBEL scope before emitting it: the names it declares and assigns (a name
 * assigned without `var` is declared, as TBEL creates it), not looking into nested functions, and MVEL's value of
 * the last statement made an explicit return.
 */

/** Names a scope declares (vars, loop variables, catch parameters; only `var`s with onlyVars), not looking into nested functions. */
export function declaredIn(stmts: Stmt[], into: Set<string>, onlyVars = false): void {
  const visit = (s: Stmt | null): void => {
    if (!s) return;
    switch (s.t) {
      case 'var':
        for (const d of s.decls) into.add(d.name);
        break;
      case 'function':
        if (!onlyVars) into.add(s.name);
        break;
      case 'if':
        visit(s.then);
        visit(s.else);
        break;
      case 'for':
        visit(s.init);
        visit(s.body);
        break;
      case 'foreach':
        if (!onlyVars) into.add(s.name);
        visit(s.body);
        break;
      case 'while':
      case 'do':
        visit(s.body);
        break;
      case 'switch':
        for (const c of s.cases) c.body.forEach(visit);
        break;
      case 'try':
        s.block.forEach(visit);
        if (s.param && !onlyVars) into.add(s.param);
        s.handler?.forEach(visit);
        s.finalizer?.forEach(visit);
        break;
      case 'block':
        s.body.forEach(visit);
        break;
      default:
        break;
    }
  };
  stmts.forEach(visit);
}

/** Names assigned (`x = …`, `x++`) in a scope's own statements, not in nested functions. */
export function assignedIn(stmts: Stmt[], into: Set<string>): void {
  const expr = (e: Expr | null): void => {
    if (!e) return;
    switch (e.t) {
      case 'assign':
        if (e.target.t === 'id') into.add(e.target.name);
        expr(e.target);
        expr(e.value);
        break;
      case 'update':
        if (e.target.t === 'id') into.add(e.target.name);
        expr(e.target);
        break;
      case 'list':
        e.items.forEach(expr);
        break;
      case 'map':
        e.entries.forEach((x) => expr(x.value));
        break;
      case 'member':
        expr(e.obj);
        break;
      case 'index':
        expr(e.obj);
        expr(e.index);
        break;
      case 'call':
        expr(e.callee);
        e.args.forEach(expr);
        break;
      case 'new':
        e.args.forEach(expr);
        break;
      case 'newArray':
        expr(e.size);
        e.init?.forEach(expr);
        break;
      case 'unary':
        expr(e.arg);
        break;
      case 'binary':
        expr(e.left);
        expr(e.right);
        break;
      case 'cond':
        expr(e.test);
        expr(e.then);
        expr(e.else);
        break;
      case 'cast':
      case 'instanceof':
        expr(e.expr);
        break;
      default:
        break;
    }
  };
  const stmt = (s: Stmt | null): void => {
    if (!s) return;
    switch (s.t) {
      case 'var':
        s.decls.forEach((d) => expr(d.init));
        break;
      case 'if':
        expr(s.test);
        stmt(s.then);
        stmt(s.else);
        break;
      case 'for':
        stmt(s.init);
        expr(s.test);
        s.update.forEach(expr);
        stmt(s.body);
        break;
      case 'foreach':
        expr(s.iter);
        stmt(s.body);
        break;
      case 'while':
      case 'do':
        expr(s.test);
        stmt(s.body);
        break;
      case 'switch':
        expr(s.disc);
        for (const c of s.cases) {
          expr(c.test);
          c.body.forEach(stmt);
        }
        break;
      case 'return':
        expr(s.arg);
        break;
      case 'throw':
        expr(s.arg);
        break;
      case 'try':
        s.block.forEach(stmt);
        s.handler?.forEach(stmt);
        s.finalizer?.forEach(stmt);
        break;
      case 'block':
        s.body.forEach(stmt);
        break;
      case 'expr':
        expr(s.expr);
        break;
      default:
        break;
    }
  };
  stmts.forEach(stmt);
}

/** MVEL returns the value of the last statement: turn a trailing expression (also inside if/else) into a return. */
export function withImplicitReturn(stmts: Stmt[]): Stmt[] {
  let last = stmts.length - 1;
  while (last >= 0 && (stmts[last].t === 'function' || stmts[last].t === 'empty')) last--;
  if (last < 0) return stmts;
  const s = stmts[last];
  let replaced: Stmt | null = null;
  if (s.t === 'expr') replaced = { t: 'return', arg: s.expr };
  else if (s.t === 'if') {
    const branch = (b: Stmt): Stmt => ({ t: 'block', body: withImplicitReturn(b.t === 'block' ? b.body : [b]) });
    replaced = { t: 'if', test: s.test, then: branch(s.then), else: s.else ? branch(s.else) : null };
  } else if (s.t === 'block') replaced = { t: 'block', body: withImplicitReturn(s.body) };
  if (!replaced) return stmts;
  const out = stmts.slice();
  out[last] = replaced;
  return out;
}
