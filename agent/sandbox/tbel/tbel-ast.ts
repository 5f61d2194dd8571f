/** The syntax tree of a TBEL script (see tbel-parser.ts for the grammar). */
export interface Pos {
  line: number;
  col: number;
}

/** Java's number types as TBEL literals and helpers give them (tbel-types.ts) */
export type NumKind = 'byte' | 'short' | 'int' | 'long' | 'float' | 'double';

export type Expr =
  | { t: 'num'; value: number; isDouble: boolean; kind: NumKind }
  | { t: 'str'; value: string }
  | { t: 'bool'; value: boolean }
  | { t: 'null' }
  | { t: 'id'; name: string }
  | { t: 'list'; items: Expr[] }
  | { t: 'map'; entries: Array<{ key: string; value: Expr }> }
  | { t: 'member'; obj: Expr; name: string; nullSafe: boolean }
  | { t: 'index'; obj: Expr; index: Expr }
  | { t: 'call'; callee: Expr; args: Expr[] }
  | { t: 'new'; type: string; args: Expr[] }
  | { t: 'newArray'; type: string; size: Expr | null; init: Expr[] | null }
  | { t: 'unary'; op: string; arg: Expr }
  | { t: 'update'; op: '++' | '--'; prefix: boolean; target: Expr }
  | { t: 'binary'; op: string; left: Expr; right: Expr }
  | { t: 'assign'; op: string; target: Expr; value: Expr }
  | { t: 'cond'; test: Expr; then: Expr; else: Expr }
  | { t: 'cast'; type: string; expr: Expr }
  | { t: 'instanceof'; expr: Expr; type: string };

export type Stmt =
  | { t: 'var'; decls: Array<{ name: string; init: Expr | null; type?: string }> }
  | { t: 'function'; name: string; params: string[]; body: Stmt[]; pos: Pos }
  | { t: 'if'; test: Expr; then: Stmt; else: Stmt | null }
  | { t: 'for'; init: Stmt | null; test: Expr | null; update: Expr[]; body: Stmt }
  | { t: 'foreach'; name: string; iter: Expr; body: Stmt }
  | { t: 'while'; test: Expr; body: Stmt }
  | { t: 'do'; body: Stmt; test: Expr }
  | { t: 'switch'; disc: Expr; cases: Array<{ test: Expr | null; body: Stmt[] }> }
  | { t: 'break' }
  | { t: 'continue' }
  | { t: 'return'; arg: Expr | null }
  | { t: 'throw'; arg: Expr }
  | { t: 'try'; block: Stmt[]; param: string | null; handler: Stmt[] | null; finalizer: Stmt[] | null }
  | { t: 'block'; body: Stmt[] }
  | { t: 'expr'; expr: Expr }
  | { t: 'empty' };
