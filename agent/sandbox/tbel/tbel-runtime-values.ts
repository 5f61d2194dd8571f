/**
 * Java values in the TBEL runtime: number helpers, Java text of values, member and index reads, equality, concatenation and truth, casts and types. One piece of the TBEL runtime's source: tbel-runtime.ts joins the pieces in one function scope (each
 * sees the others' functions). It runs in the QuickJS sandbox, never in the agent.
 */
export const TBEL_VALUES_SOURCE = String.raw`  'use strict';
  var g0 = globalThis;
  var isArray = Array.isArray, hasOwn = Object.prototype.hasOwnProperty, objectKeys = Object.keys;
  var fromCharCode = String.fromCharCode, jsonParse = JSON.parse, jsonStringify = JSON.stringify;
  var floor = Math.floor, trunc = Math.trunc, fround = Math.fround, abs = Math.abs, pow = Math.pow;
  var ErrorCtor = Error, dateNow = Date.now, dateParse = Date.parse, DateCtor = Date, BigIntFn = BigInt;
  var INT_MAX = 2147483647, INT_MIN = -2147483648;

  // BigInt.asUintN/asIntN are unreliable for negative values in this QuickJS build (asUintN(64, -1n) is -1n).
  function uintN(bits, x) {
    var m = BigIntFn(1) << BigIntFn(bits);
    return ((x % m) + m) % m;
  }
  function intN(bits, x) {
    var u = uintN(bits, x), half = BigIntFn(1) << BigIntFn(bits - 1);
    return u >= half ? u - (BigIntFn(1) << BigIntFn(bits)) : u;
  }
  function fail(name, message) {
    var e = new ErrorCtor(message);
    e.name = name;
    return e;
  }
  function typeName(v) {
    if (v === null || v === undefined) return 'null';
    if (isArray(v)) return 'List';
    var t = typeof v;
    if (t === 'string') return 'String';
    if (t === 'number') return Number.isInteger(v) ? 'Integer' : 'Double';
    if (t === 'boolean') return 'Boolean';
    if (v instanceof TbDate) return 'Date';
    if (v instanceof TbSet) return 'Set';
    if (v instanceof ErrorCtor) return 'Exception';
    return 'Map';
  }

  // ---- Java text of values (string concatenation, String.valueOf, toString) ----
  function str(v) {
    if (v === null || v === undefined) return 'null';
    var t = typeof v;
    if (t === 'string') return v;
    if (t === 'number') return numText(v);
    if (t === 'boolean') return v ? 'true' : 'false';
    if (isArray(v)) {
      var parts = [];
      for (var i = 0; i < v.length; i++) parts[i] = str(v[i]);
      return '[' + parts.join(', ') + ']';
    }
    if (v instanceof TbDate) return v.toString();
    if (v instanceof TbSet) return str(v.items);
    if (v instanceof ErrorCtor) return v.name + ': ' + v.message;
    var ks = objectKeys(v), out = [];
    for (var j = 0; j < ks.length; j++) out[j] = ks[j] + '=' + str(v[ks[j]]);
    return '{' + out.join(', ') + '}';
  }
  function numText(n) {
    if (n !== n) return 'NaN';
    if (n === Infinity) return 'Infinity';
    if (n === -Infinity) return '-Infinity';
    return String(n);
  }

  // ---- member and index reads ----
  function npe(what) {
    return fail('NullPointerException', 'cannot read ' + what + ' of null');
  }
  function g(o, k) {
    if (o === null || o === undefined) throw npe(typeof k === 'number' ? '[' + k + ']' : '"' + k + '"');
    if (isArray(o)) {
      if (typeof k === 'number') {
        if (k >= 0 && k < o.length && k === floor(k)) {
          var x = o[k];
          return x === undefined ? null : x;
        }
        throw fail('IndexOutOfBoundsException', 'Index ' + k + ' out of bounds for length ' + o.length);
      }
      if (k === 'length' || k === 'size') return o.length;
      if (k === 'empty') return o.length === 0;
      throw fail('PropertyAccessException', 'a list has no property "' + k + '"');
    }
    var t = typeof o;
    if (t === 'object') {
      if (o instanceof TbSet) {
        if (k === 'size' || k === 'length') return o.items.length;
        if (k === 'empty') return o.items.length === 0;
        return null;
      }
      if (o instanceof ErrorCtor) return k === 'message' ? o.message : null;
      if (hasOwn.call(o, k)) {
        var v = o[k];
        return v === undefined ? null : v;
      }
      if (o instanceof TbDate) return null;
      switch (k) {
        case 'size': return objectKeys(o).length;
        case 'empty': return objectKeys(o).length === 0;
        case 'keys': return objectKeys(o);
        case 'values': return values(o);
      }
      return null;
    }
    if (t === 'string') {
      if (typeof k === 'number') {
        if (k >= 0 && k < o.length) return o.charAt(k);
        throw fail('StringIndexOutOfBoundsException', 'index ' + k + ', length ' + o.length);
      }
      if (k === 'length') return o.length;
      if (k === 'empty') return o.length === 0;
    }
    throw fail('PropertyAccessException', 'could not access property "' + k + '" of a ' + typeName(o));
  }
  function gn(o, k) {
    return o === null || o === undefined ? null : g(o, k);
  }
  function key(k) {
    if (k === '__proto__') throw fail('IllegalArgumentException', 'the key "__proto__" is not supported');
    return k;
  }
  /** obj.k = v / obj[k] op= v: a map drops a key set to null (ExecutionHashMap.put), a list index must exist. */
  function set(o, k, op, v) {
    if (o === null || o === undefined) throw npe(typeof k === 'number' ? '[' + k + ']' : '"' + k + '"');
    if (op !== '=') v = arith(op, g(o, k), v);
    if (isArray(o)) {
      if (typeof k !== 'number') throw fail('PropertyAccessException', 'a list has no property "' + k + '"');
      checkIndex(o, k, o.length);
      o[k] = v;
      return v;
    }
    if (typeof o !== 'object' || o instanceof TbDate) throw fail('PropertyAccessException', 'cannot set "' + k + '" on a ' + typeName(o));
    if (v === null || v === undefined) delete o[k];
    else o[key(k)] = v;
    return v;
  }
  function arith(op, a, b) {
    switch (op) {
      case '+=': return add(a, b);
      case '-=': return a - b;
      case '*=': return a * b;
      case '/=': return a / b;
      case '%=': return a % b;
      case '&=': return a & b;
      case '|=': return a | b;
      case '^=': return a ^ b;
      case '<<=': return a << b;
      case '>>=': return a >> b;
      case '>>>=': return a >>> b;
    }
    throw fail('CompileException', 'unknown operator ' + op);
  }
  /** An inline map literal: entries whose value is null are not kept (ExecutionHashMap.put). */
  function map(m) {
    for (var k in m) if (m[k] === null || m[k] === undefined) delete m[k];
    return m;
  }
  function values(o) {
    var ks = objectKeys(o), out = [];
    for (var i = 0; i < ks.length; i++) out[i] = o[ks[i]];
    return out;
  }

  // ---- equality, concatenation, truth ----
  function eq(a, b) {
    if (a === b) return true;
    if (a === null || a === undefined || b === null || b === undefined) return (a === null || a === undefined) && (b === null || b === undefined);
    var ta = typeof a, tb = typeof b;
    if (ta === 'number' && tb === 'number') return false;
    if (ta === tb) {
      if (ta !== 'object') return false;
      return deepEq(a, b);
    }
    if (ta === 'number' && tb === 'string') return b.trim() !== '' && Number(b) === a;
    if (ta === 'string' && tb === 'number') return a.trim() !== '' && Number(a) === b;
    if (ta === 'boolean' && tb === 'string') return b.toLowerCase() === String(a);
    if (ta === 'string' && tb === 'boolean') return a.toLowerCase() === String(b);
    return false;
  }
  function deepEq(a, b) {
    if (isArray(a)) {
      if (!isArray(b) || a.length !== b.length) return false;
      for (var i = 0; i < a.length; i++) if (!eq(a[i], b[i])) return false;
      return true;
    }
    if (isArray(b)) return false;
    if (a instanceof TbDate || b instanceof TbDate) return a instanceof TbDate && b instanceof TbDate && a.t === b.t;
    if (a instanceof TbSet || b instanceof TbSet) return a instanceof TbSet && b instanceof TbSet && a.items.length === b.items.length && a.items.every(function (x) { return b.has(x); });
    var ka = objectKeys(a), kb = objectKeys(b);
    if (ka.length !== kb.length) return false;
    for (var j = 0; j < ka.length; j++) if (!hasOwn.call(b, ka[j]) || !eq(a[ka[j]], b[ka[j]])) return false;
    return true;
  }
  function add(a, b) {
    var ta = typeof a, tb = typeof b;
    if (ta === 'number' && tb === 'number') return a + b;
    if (ta === 'string') return tb === 'string' ? a + b : a + str(b);
    if (tb === 'string') return str(a) + b;
    if (a === null || a === undefined || b === null || b === undefined) throw fail('NullPointerException', 'cannot add ' + str(a) + ' and ' + str(b));
    if (ta === 'boolean' || tb === 'boolean') throw fail('IllegalArgumentException', 'cannot add ' + typeName(a) + ' and ' + typeName(b));
    if (isArray(a) || isArray(b) || ta === 'object' || tb === 'object') return str(a) + str(b);
    return a + b;
  }

  // ---- casts and types ----
  function toIntValue(n, bits) {
    if (n !== n) return 0;
    if (bits === 32) {
      if (n >= INT_MAX) return INT_MAX;
      if (n <= INT_MIN) return INT_MIN;
      return trunc(n);
    }
    return trunc(n);
  }
  function num(v, what) {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.length === 1 && what === 'char') return v.charCodeAt(0);
    if (typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v))) return Number(v);
    if (typeof v === 'boolean') throw fail('ClassCastException', 'cannot cast Boolean to ' + what);
    throw fail('ClassCastException', 'cannot cast ' + typeName(v) + ' to ' + what);
  }
  function cast(type, v) {
    if (v === null || v === undefined) return null;
    switch (type) {
      case 'int': case 'Integer': return typeof v === 'string' && v.length === 1 && isNaN(Number(v)) ? v.charCodeAt(0) : toIntValue(num(v, type), 32);
      case 'long': case 'Long': return trunc(num(v, type));
      case 'short': case 'Short': return (toIntValue(num(v, type), 32) << 16) >> 16;
      case 'byte': case 'Byte': return (toIntValue(num(v, type), 32) << 24) >> 24;
      case 'char': case 'Character': return typeof v === 'string' ? v.charAt(0) : fromCharCode(toIntValue(v, 32) & 0xffff);
      case 'double': case 'Double': case 'Number': return num(v, type);
      case 'float': case 'Float': return shortFloat(num(v, type));
      case 'String': return str(v);
      case 'boolean': case 'Boolean':
        if (typeof v === 'boolean') return v;
        throw fail('ClassCastException', 'cannot cast ' + typeName(v) + ' to Boolean');
      default: return v;
    }
  }
  function isPlainMap(v) {
    return v !== null && typeof v === 'object' && !isArray(v) && !(v instanceof TbDate) && !(v instanceof TbSet) && !(v instanceof ErrorCtor);
  }
  function io(v, type) {
    if (v === null || v === undefined) return false;
    switch (type) {
      case 'ArrayList': case 'List': case 'Collection': case 'ExecutionArrayList': case 'LinkedList': case 'Iterable': case 'Object[]':
        return isArray(v) || (type === 'Collection' || type === 'Iterable' ? v instanceof TbSet : false);
      case 'Map': case 'HashMap': case 'LinkedHashMap': case 'ExecutionHashMap': case 'TreeMap':
        return isPlainMap(v);
      case 'Set': case 'HashSet': case 'LinkedHashSet': case 'ExecutionLinkedHashSet':
        return v instanceof TbSet;
      case 'String': case 'CharSequence':
        return typeof v === 'string';
      case 'Integer': case 'Long': case 'Short': case 'Byte':
        return typeof v === 'number' && Number.isInteger(v);
      case 'Double': case 'Float':
        return typeof v === 'number' && !Number.isInteger(v);
      case 'Number':
        return typeof v === 'number';
      case 'Boolean':
        return typeof v === 'boolean';
      case 'Date': case 'TbDate':
        return v instanceof TbDate;
      case 'Object':
        return true;
      default:
        return false;
    }
  }
  function iter(v) {
    if (isArray(v)) return v.slice();
    if (v === null || v === undefined) throw fail('NullPointerException', 'foreach over null');
    if (typeof v === 'string') return v.split('');
    if (typeof v === 'number') {
      var out = [];
      for (var i = 1; i <= v; i++) out[out.length] = i;
      return out;
    }
    if (v instanceof TbSet) return v.items.slice();
    if (isPlainMap(v)) return entrySet(v);
    throw fail('IllegalArgumentException', 'cannot iterate over a ' + typeName(v));
  }
  function arr(n, type) {
    if (typeof n !== 'number' || n < 0 || n !== floor(n)) throw fail('NegativeArraySizeException', 'bad array size ' + str(n));
    var fill = type === 'boolean' ? false : (type === 'int' || type === 'long' || type === 'byte' || type === 'short' || type === 'double' || type === 'float') ? 0 : type === 'char' ? '\u0000' : null;
    var out = [];
    for (var i = 0; i < n; i++) out[i] = fill;
    return out;
  }
  function newObject(type, args) {
    var a = args[0];
    switch (type) {
      case 'ArrayList': case 'LinkedList': case 'List': case 'Vector': case 'ExecutionArrayList':
        if (isArray(a)) return a.slice();
        if (a instanceof TbSet) return a.items.slice();
        return [];
      case 'HashMap': case 'LinkedHashMap': case 'TreeMap': case 'Map': case 'ExecutionHashMap': case 'Object': {
        var m = {};
        if (isPlainMap(a)) putAll(m, a);
        return m;
      }
      case 'HashSet': case 'LinkedHashSet': case 'TreeSet': case 'Set':
        return new TbSet(isArray(a) ? a : a instanceof TbSet ? a.items : []);
      case 'Date': case 'TbDate':
        return new TbDate(args);
      case 'String':
        if (args.length === 0) return '';
        if (isArray(a)) return bytesToString(a, args[1]);
        return str(a);
      case 'StringBuilder': case 'StringBuffer':
        return new TbStringBuilder(args.length && typeof a !== 'number' ? str(a) : '');
      case 'Integer': case 'Long': case 'Double': case 'Float': case 'Short': case 'Byte':
        return cast(type, typeof a === 'string' ? J.Double.parseDouble(a) : a);
      case 'Boolean':
        return typeof a === 'string' ? a.toLowerCase() === 'true' : !!a;
      case 'Error': case 'Exception': case 'RuntimeException': case 'IllegalArgumentException': case 'IllegalStateException': case 'NumberFormatException':
        return fail(type, args.length ? str(a) : '');
    }
    throw fail('CompileException', 'cannot create a ' + type + ' in TBEL');
  }
  function nofn(name) {
    throw fail('CompileException', 'function "' + name + '" is not defined');
  }
  function throwable(v) {
    if (v instanceof ErrorCtor) return v;
    return fail('RuntimeException', str(v));
  }
  function caught(e) {
    return e;
  }

`;
