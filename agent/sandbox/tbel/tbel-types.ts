import type { Expr, NumKind, Stmt } from './tbel-ast';

/**
 * What the translator knows, before running, about the Java type of a TBEL expression. TBEL computes with
 * boxed Java numbers (MVEL's MathProcessor): Integer / Integer is a double, but two different integer types
 * (Byte / Integer, Long / Integer) divide as doubles narrowed back to the wider type, i.e. truncated; and a
 * Double or Float turned into text shows as Java shows it ("1.0"). The sandbox computes with JavaScript
 * numbers, so where these rules change a result the translator must know the types: from literals, casts,
 * helpers with a fixed return type, list literals, declared types (`int x`, whose values MVEL converts) and
 * the variables assigned only such values.
 * Anything else is unknown (null) and is translated as plain JavaScript arithmetic.
 */
export type StaticKind = NumKind | 'string' | `list:${NumKind}` | null;

const RANK: Record<NumKind, number> = { byte: 99, short: 105, int: 106, long: 107, float: 108, double: 109 };
export const isIntegerKind = (k: StaticKind): k is 'byte' | 'short' | 'int' | 'long' => k === 'byte' || k === 'short' || k === 'int' || k === 'long';
export const isDecimalKind = (k: StaticKind): k is 'float' | 'double' => k === 'float' || k === 'double';
const isNum = (k: StaticKind | typeof PENDING): k is NumKind => typeof k === 'string' && Object.hasOwn(RANK, k);
export const isNumberKind = (k: StaticKind): k is NumKind => isNum(k);

/** Return types of TbUtils helpers (ThingsBoard's TbUtils signatures). */
const HELPER_KINDS: Record<string, NumKind> = {
  parseInt: 'int', parseHexToInt: 'int', parseLittleEndianHexToInt: 'int', parseBigEndianHexToInt: 'int', parseBytesToInt: 'int',
  parseBinaryArrayToInt: 'int', toInt: 'int',
  parseLong: 'long', parseHexToLong: 'long', parseLittleEndianHexToLong: 'long', parseBigEndianHexToLong: 'long', parseBytesToLong: 'long',
  parseBytesToUnsignedInt: 'long',
  parseFloat: 'float', parseHexToFloat: 'float', parseLittleEndianHexToFloat: 'float', parseBigEndianHexToFloat: 'float',
  parseBytesToFloat: 'float', parseBytesIntToFloat: 'float', parseHexIntLongToFloat: 'float',
  parseDouble: 'double', parseHexToDouble: 'double', parseLittleEndianHexToDouble: 'double', parseBigEndianHexToDouble: 'double',
  parseBytesToDouble: 'double', parseBytesLongToDouble: 'double',
};

/** TbUtils helpers that return bytes (a byte[] or a list of Bytes). */
const BYTES_HELPERS = new Set(['base64ToBytes', 'base64ToBytesList', 'hexToBytes', 'hexToBytesArray', 'stringToBytes', 'bytesToExecutionArrayList']);

/** Static methods of Java classes with a fixed return type. */
const CLASS_KINDS: Record<string, NumKind | 'string'> = {
  'Integer.parseInt': 'int', 'Integer.valueOf': 'int', 'Long.parseLong': 'long', 'Long.valueOf': 'long',
  'Double.parseDouble': 'double', 'Double.valueOf': 'double', 'Float.parseFloat': 'float', 'Float.valueOf': 'float',
  'System.currentTimeMillis': 'long', 'Math.floor': 'double', 'Math.ceil': 'double', 'Math.sqrt': 'double', 'Math.pow': 'double',
  'Math.log': 'double', 'Math.log10': 'double', 'Math.exp': 'double', 'Math.random': 'double', 'Math.rint': 'double',
  'String.valueOf': 'string', 'String.format': 'string', 'String.join': 'string', 'Integer.toString': 'string', 'Long.toString': 'string',
  'Integer.toHexString': 'string', 'Integer.toBinaryString': 'string',
};

/** Instance methods whose result type does not depend on the receiver's. */
const METHOD_KINDS = new Map<string, 'int' | 'string'>([
  ...['size', 'length', 'indexOf', 'lastIndexOf'].map((m) => [m, 'int'] as const),
  ...['toString', 'substring', 'toUpperCase', 'toLowerCase', 'trim', 'concat', 'replace', 'replaceAll'].map((m) => [m, 'string'] as const),
]);
/** own entries only: a script's `constructor(…)` is not Object's */
const lookup = <T>(table: Record<string, T>, key: string): T | null => (Object.hasOwn(table, key) ? table[key] : null);

const CAST_KINDS: Record<string, NumKind | 'string'> = {
  int: 'int', Integer: 'int', long: 'long', Long: 'long', short: 'short', Short: 'short', byte: 'byte', Byte: 'byte',
  float: 'float', Float: 'float', double: 'double', Double: 'double', String: 'string',
};

/** The kind of a number literal from its text: 10 int, 10L long, 1.5f float, 1.5 / 1e3 / 2d double. */
export function literalKind(text: string, isDouble: boolean, value: number): NumKind {
  if (/[lL]$/.test(text)) return 'long';
  if (/^0[xX]/.test(text)) return Math.abs(value) > 2147483647 ? 'long' : 'int';
  if (/[fF]$/.test(text)) return 'float';
  if (isDouble) return 'double';
  return Math.abs(value) > 2147483647 ? 'long' : 'int';
}

const PENDING = 'pending' as const;
type Working = StaticKind | typeof PENDING;

/** The type of `l op r` for arithmetic, as MathProcessor computes it. */
function arithmetic(op: string, l: Working, r: Working): Working {
  if (l === PENDING || r === PENDING) return PENDING;
  if (!isNum(l) || !isNum(r)) return null;
  if (l === r) {
    if (op === '/' && isIntegerKind(l)) return 'double';
    return l === 'byte' || l === 'short' ? 'int' : l;
  }
  return RANK[l] > RANK[r] ? l : r;
}

export class TbelTypes {
  /** every value assigned to a variable name anywhere in the script ('unknown' for parameters and loop variables) */
  private readonly assigned = new Map<string, Expr[] | 'unknown'>();
  private kinds = new Map<string, Working>();
  /** names declared with a Java number type (`int x = …`), the same one wherever declared: MVEL converts every value they get */
  private readonly typed = new Map<string, NumKind | 'mixed'>();

  constructor(
    program: Stmt[],
    params: readonly string[],
    /** names the script declares itself: a helper or class of that name is the user's */
    private readonly userNames: ReadonlySet<string>,
    /** a decoder's payload parameter: a byte[] while the script does not assign it */
    bytesParam?: string,
  ) {
    program.forEach((s) => this.collect(s));
    const payloadKept = bytesParam !== undefined && !this.assigned.has(bytesParam);
    params.forEach((p) => this.assigned.set(p, 'unknown'));
    this.solve(payloadKept ? bytesParam : undefined);
  }

  kindOf(e: Expr): StaticKind {
    const k = this.working(e);
    return k === PENDING ? null : k;
  }

  /** The width of an integer division `l / r`, when TBEL truncates it: 32 or 64 bits, or null (a double). */
  integerDivision(l: Expr, r: Expr): 32 | 64 | null {
    const kl = this.kindOf(l);
    const kr = this.kindOf(r);
    if (!isIntegerKind(kl) || !isIntegerKind(kr) || kl === kr) return null;
    return kl === 'long' || kr === 'long' ? 64 : 32;
  }

  private addValue(name: string, e: Expr | 'unknown'): void {
    const cur = this.assigned.get(name);
    if (cur === 'unknown') return;
    if (e === 'unknown') this.assigned.set(name, 'unknown');
    else if (cur) cur.push(e);
    else this.assigned.set(name, [e]);
  }

  private collect(s: Stmt | null): void {
    if (!s) return;
    switch (s.t) {
      case 'var':
        for (const d of s.decls) {
          const declared = d.type !== undefined ? lookup(CAST_KINDS, d.type) : null;
          const k = declared === 'string' ? null : declared;
          const before = this.typed.get(d.name);
          this.typed.set(d.name, before === undefined && k !== null ? k : before === k ? k : 'mixed');
          if (d.init) {
            this.addValue(d.name, d.init);
            this.collectExpr(d.init);
          }
        }
        return;
      case 'function':
        s.params.forEach((p) => this.addValue(p, 'unknown'));
        s.body.forEach((x) => this.collect(x));
        return;
      case 'if':
        this.collectExpr(s.test);
        this.collect(s.then);
        this.collect(s.else);
        return;
      case 'for':
        this.collect(s.init);
        if (s.test) this.collectExpr(s.test);
        s.update.forEach((u) => this.collectExpr(u));
        this.collect(s.body);
        return;
      case 'foreach':
        this.addValue(s.name, 'unknown');
        this.collectExpr(s.iter);
        this.collect(s.body);
        return;
      case 'while':
      case 'do':
        this.collectExpr(s.test);
        this.collect(s.body);
        return;
      case 'switch':
        this.collectExpr(s.disc);
        for (const c of s.cases) c.body.forEach((x) => this.collect(x));
        return;
      case 'return':
      case 'throw':
        if (s.arg) this.collectExpr(s.arg);
        return;
      case 'try':
        if (s.param) this.addValue(s.param, 'unknown');
        [s.block, s.handler ?? [], s.finalizer ?? []].forEach((b) => b.forEach((x) => this.collect(x)));
        return;
      case 'block':
        s.body.forEach((x) => this.collect(x));
        return;
      case 'expr':
        this.collectExpr(s.expr);
        return;
      default:
        return;
    }
  }

  /** Assignments inside expressions (`a = b = 1`, `x += 2`, calls' arguments). */
  private collectExpr(e: Expr): void {
    const visit = (x: Expr): void => {
      switch (x.t) {
        case 'assign':
          if (x.target.t === 'id') this.addValue(x.target.name, x.op === '=' ? x.value : { t: 'binary', op: x.op.slice(0, -1), left: x.target, right: x.value });
          visit(x.target);
          visit(x.value);
          return;
        case 'binary':
          visit(x.left);
          visit(x.right);
          return;
        case 'unary':
          visit(x.arg);
          return;
        case 'cond':
          visit(x.test);
          visit(x.then);
          visit(x.else);
          return;
        case 'call':
          visit(x.callee);
          x.args.forEach(visit);
          return;
        case 'member':
          visit(x.obj);
          return;
        case 'index':
          visit(x.obj);
          visit(x.index);
          return;
        case 'list':
          x.items.forEach(visit);
          return;
        case 'map':
          x.entries.forEach((m) => visit(m.value));
          return;
        case 'cast':
          visit(x.expr);
          return;
        default:
          return;
      }
    };
    visit(e);
  }

  /** Variables' kinds: from the values whose kinds are known so far (others wait a round), to a fixed point. */
  /** The Java number type a variable name is declared with (and converted to), if every declaration says the same. */
  declaredKind(name: string): NumKind | null {
    const k = this.typed.get(name);
    return k === undefined || k === 'mixed' || this.assigned.get(name) === 'unknown' ? null : k;
  }

  private solve(bytesParam: string | undefined): void {
    for (const [name, values] of this.assigned) this.kinds.set(name, values === 'unknown' ? null : PENDING);
    if (bytesParam !== undefined) this.kinds.set(bytesParam, 'list:byte');
    for (const name of this.typed.keys()) {
      const k = this.declaredKind(name);
      if (k !== null) this.kinds.set(name, k);
    }
    for (let round = 0; round < 8; round++) {
      let changed = false;
      for (const [name, values] of this.assigned) {
        if (values === 'unknown' || this.declaredKind(name) !== null) continue;
        let k: Working = PENDING;
        for (const v of values) {
          const kv = this.working(v);
          if (kv === PENDING) continue;
          if (k === PENDING) k = kv;
          else if (k !== kv) k = null;
          if (k === null) break;
        }
        if (this.kinds.get(name) !== k) {
          this.kinds.set(name, k);
          changed = true;
        }
      }
      if (!changed) break;
    }
    // whatever is still open (or kept changing) is unknown
    for (const [name, k] of this.kinds) if (k === PENDING) this.kinds.set(name, null);
  }

  private working(e: Expr): Working {
    switch (e.t) {
      case 'num':
        return e.kind;
      case 'str':
        return 'string';
      case 'id':
        return this.kinds.get(e.name) ?? null;
      case 'list': {
        const ks = e.items.map((x) => this.working(x));
        const first = ks[0];
        return isNum(first ?? null) && ks.every((k) => k === first) ? (`list:${first as NumKind}` as const) : null;
      }
      case 'index': {
        const k = this.working(e.obj);
        return typeof k === 'string' && k.startsWith('list:') ? (k.slice(5) as NumKind) : null;
      }
      case 'call':
        return this.callKind(e);
      case 'unary':
        return e.op === '-' || e.op === '+' || e.op === '~' ? (isNum(this.working(e.arg)) ? this.working(e.arg) : null) : null;
      case 'binary':
        return this.binaryKind(e.op, this.working(e.left), this.working(e.right));
      case 'cond': {
        const a = this.working(e.then);
        return a === this.working(e.else) ? a : null;
      }
      case 'cast':
        return lookup(CAST_KINDS, e.type);
      case 'assign':
        return e.op === '=' ? this.working(e.value) : null;
      default:
        return null;
    }
  }

  private binaryKind(op: string, l: Working, r: Working): Working {
    switch (op) {
      case '+':
        if (l === 'string' || r === 'string') return 'string';
        if (l === PENDING || r === PENDING) return PENDING;
        return arithmetic(op, l, r);
      case '-':
      case '*':
      case '/':
      case '%':
        return arithmetic(op, l, r);
      case '&':
      case '|':
      case '^':
      case '<<':
      case '>>':
      case '>>>':
        // only integers take bitwise operators: int, unless a side is known to be long
        if (l === PENDING || r === PENDING) return PENDING;
        if (l === 'long' || (r === 'long' && op !== '<<' && op !== '>>' && op !== '>>>')) return 'long';
        return isIntegerKind(l) || isIntegerKind(r) ? 'int' : null;
      default:
        return null;
    }
  }

  private callKind(e: Extract<Expr, { t: 'call' }>): Working {
    const c = e.callee;
    if (c.t === 'id') {
      if (this.userNames.has(c.name)) return null;
      if (c.name === 'toFixed') return e.args[0] && this.working(e.args[0]) === 'float' ? 'float' : 'double';
      if (BYTES_HELPERS.has(c.name)) return 'list:byte';
      return lookup(HELPER_KINDS, c.name);
    }
    if (c.t !== 'member') return null;
    if (c.obj.t === 'id' && !this.userNames.has(c.obj.name)) {
      const fixed = lookup(CLASS_KINDS, `${c.obj.name}.${c.name}`);
      if (fixed) return fixed;
      if (c.obj.name === 'Math') {
        const ks = e.args.map((a) => this.working(a));
        if (c.name === 'round') return ks[0] === 'float' ? 'int' : 'long';
        if ((c.name === 'abs' || c.name === 'max' || c.name === 'min') && ks.length > 0 && ks.every(isNum)) {
          return ks.reduce((a, b) => (RANK[a as NumKind] >= RANK[b as NumKind] ? a : b));
        }
        return null;
      }
    }
    return METHOD_KINDS.get(c.name) ?? null;
  }
}
