/**
 * TBEL's runtime inside the sandbox: trusted JavaScript evaluated after the prelude, only in the VMs of TBEL
 * scripts. It installs `globalThis.$tbel`, which translated scripts bind to locals once (tbel-to-js.ts), and
 * nothing else. Semantics follow ThingsBoard's TBEL (MVEL with ExecutionArrayList/ExecutionHashMap) and its
 * helper library TbUtils as documented: lists and maps with their Java methods, strings with Java's, signed
 * bytes (a converter's payload is a byte[]), Java number parsing and formatting, TBEL's Date.
 *
 * Numbers are JavaScript doubles. Where Java's number types change a result, the translator (tbel-to-js.ts)
 * knows the types statically and calls in here: mixed integer types divide as integers (`idiv`, and `bdiv`
 * for an element of a byte array), a double or float concatenated to text shows as Java shows it (`jd`:
 * "2.0"). Beyond that: bitwise operators are 32-bit on values beyond 32 bits.
 */

/** Helper functions a TBEL script may call by name (ThingsBoard's TbUtils list). */
export const TBEL_FUNCTIONS: readonly string[] = [
  'btoa', 'atob', 'decodeToJson', 'decodeToString', 'bytesToString', 'stringToBytes', 'parseInt', 'parseLong', 'parseFloat',
  'parseDouble', 'parseHexIntLongToFloat', 'parseLittleEndianHexToInt', 'parseBigEndianHexToInt', 'parseHexToInt',
  'parseLittleEndianHexToLong', 'parseBigEndianHexToLong', 'parseHexToLong', 'parseLittleEndianHexToFloat',
  'parseBigEndianHexToFloat', 'parseHexToFloat', 'parseLittleEndianHexToDouble', 'parseBigEndianHexToDouble', 'parseHexToDouble',
  'hexToBytes', 'hexToBytesArray', 'printUnsignedBytes', 'intToHex', 'longToHex', 'intLongToRadixString', 'floatToHex',
  'doubleToHex', 'base64ToHex', 'hexToBase64', 'bytesToBase64', 'base64ToBytes', 'base64ToBytesList', 'parseBytesToInt',
  'parseBytesToUnsignedInt', 'parseBytesToLong', 'parseBytesToFloat', 'parseBytesIntToFloat', 'parseBytesToDouble',
  'parseBytesLongToDouble', 'bytesToHex', 'toFlatMap', 'encodeURI', 'decodeURI', 'raiseError', 'isBinary', 'isOctal',
  'isDecimal', 'isHexadecimal', 'bytesToExecutionArrayList', 'padStart', 'padEnd', 'parseByteToBinaryArray',
  'parseBytesToBinaryArray', 'parseLongToBinaryArray', 'parseBinaryArrayToInt', 'isInsidePolygon', 'isInsideCircle', 'isMap',
  'isList', 'isArray', 'isSet', 'newSet', 'toSet', 'toFixed', 'toInt', 'isNaN',
];

/** Java classes a script may name: static methods and constants (`Integer.parseInt`, `Math.pow`, `String.format`). */
export const JAVA_CLASSES: readonly string[] = [
  'Integer', 'Long', 'Short', 'Byte', 'Double', 'Float', 'Boolean', 'Character', 'Math', 'String', 'Arrays', 'System', 'Collections',
  'JSON', 'Date', 'Objects', 'Number', 'StringBuilder',
];

export const TBEL_RUNTIME_SOURCE = String.raw`(function () {
  'use strict';
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

  // ---- bytes, text, numbers (TbUtils) ----
  function byteOf(v) {
    if (typeof v === 'string') v = tb.parseInt(v);
    if (typeof v !== 'number' || v !== floor(v) || v < -128 || v > 255) throw fail('NumberFormatException', 'The value \'' + str(v) + '\' could not be correctly converted to a byte.');
    return v > 127 ? v - 256 : v;
  }
  /**
   * Arrays whose elements are Java Bytes (a converter's byte[], base64ToBytes, hexToBytes…): Byte / Integer is
   * integer division in TBEL (MathProcessor widens mixed boxed types to the wider one), unlike Integer / Integer.
   */
  var byteContainers = new WeakSet();
  function bytesOut(a) {
    byteContainers.add(a);
    return a;
  }
  function signedBytes(list) {
    if (list === null || list === undefined) throw fail('NullPointerException', 'bytes are null');
    if (typeof list === 'string') return utf8Encode(list);
    if (!isArray(list)) throw fail('IllegalArgumentException', 'expected a list of bytes, got a ' + typeName(list));
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var v = list[i];
      // the common case inline (a call per byte is most of a small converter's time in QuickJS)
      out[i] = typeof v === 'number' && v >= -128 && v <= 127 && v === (v | 0) ? v : byteOf(v);
    }
    return bytesOut(out);
  }
  /** Mixed integer types divide as doubles narrowed to the wider type (int saturates, long truncates). */
  function idiv(a, b, bits) {
    if (typeof a !== 'number' || typeof b !== 'number') return a / b;
    return bits === 32 ? toIntValue(a / b, 32) : trunc(a / b);
  }
  /** o[k] / b where b is an integer: integer division when o holds Bytes. */
  function bdiv(o, k, b, bits) {
    var a = g(o, k);
    return byteContainers.has(o) ? idiv(a, b, bits) : a / b;
  }
  /** Java's Double.toString / Float.toString (a whole double still shows ".0"; E notation below 1e-3 and from 1e7). */
  function javaDecimal(n, isFloat) {
    if (typeof n !== 'number') return n;
    if (n !== n || n === Infinity || n === -Infinity) return numText(n);
    if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
    var v = n;
    if (isFloat) {
      var f = fround(n);
      for (var p = 1; p <= 9; p++) {
        var cand = Number(f.toPrecision(p));
        if (fround(cand) === f) { v = cand; break; }
      }
    }
    var a = abs(v);
    if (a >= 1e-3 && a < 1e7) {
      var plain = String(v);
      return plain.indexOf('.') < 0 ? plain + '.0' : plain;
    }
    var m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(v.toExponential());
    return m[1] + m[2] + '.' + (m[3] || '0') + 'E' + Number(m[4]);
  }
  function utf8Encode(s) {
    var out = [];
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    for (var j = 0; j < out.length; j++) if (out[j] > 127) out[j] -= 256;
    return bytesOut(out);
  }
  function utf8Decode(bytes) {
    var ascii = true;
    for (var a = 0; a < bytes.length && ascii; a++) if (bytes[a] < 0 || bytes[a] > 127) ascii = false;
    if (ascii) {
      var text = '';
      for (var p = 0; p < bytes.length; p += 4096) text += fromCharCode.apply(null, bytes.slice(p, p + 4096));
      return text;
    }
    var s = '', chunk = [];
    for (var i = 0; i < bytes.length; ) {
      var b = bytes[i] & 0xff, c, need;
      if (b < 0x80) { c = b; need = 0; }
      else if (b >= 0xc2 && b < 0xe0) { c = b & 31; need = 1; }
      else if (b >= 0xe0 && b < 0xf0) { c = b & 15; need = 2; }
      else if (b >= 0xf0 && b < 0xf5) { c = b & 7; need = 3; }
      else { c = 0xfffd; need = -1; }
      i++;
      if (need > 0) {
        var ok = i + need <= bytes.length;
        for (var k = 0; ok && k < need; k++) if (((bytes[i + k] & 0xff) & 0xc0) !== 0x80) ok = false;
        if (ok) {
          for (var m = 0; m < need; m++) c = (c << 6) | (bytes[i + m] & 63);
          i += need;
        } else c = 0xfffd;
      }
      if (c >= 0x10000) {
        c -= 0x10000;
        chunk.push(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
      } else chunk.push(c);
      if (chunk.length >= 4096) {
        s += fromCharCode.apply(null, chunk);
        chunk = [];
      }
    }
    return s + fromCharCode.apply(null, chunk);
  }
  function latin1(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += fromCharCode(bytes[i] & 0xff);
    return s;
  }
  function bytesToString(list, charset) {
    if (typeof list === 'string') return list;
    // a byte array's elements were checked when it was made
    var b = byteContainers.has(list) ? list : signedBytes(list);
    var cs = charset === undefined || charset === null ? 'UTF-8' : String(charset).toUpperCase();
    if (cs === 'ISO-8859-1' || cs === 'US-ASCII' || cs === 'ASCII' || cs === 'LATIN1') return latin1(b);
    return utf8Decode(b);
  }
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function b64Encode(bytes) {
    var out = '';
    for (var i = 0; i < bytes.length; i += 3) {
      var a = bytes[i] & 0xff, b = i + 1 < bytes.length ? bytes[i + 1] & 0xff : 0, c = i + 2 < bytes.length ? bytes[i + 2] & 0xff : 0;
      var n = (a << 16) | (b << 8) | c;
      out += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + (i + 1 < bytes.length ? B64.charAt((n >> 6) & 63) : '=') + (i + 2 < bytes.length ? B64.charAt(n & 63) : '=');
    }
    return out;
  }
  function b64Decode(s) {
    if (s === null || s === undefined) throw fail('NullPointerException', 'base64 input is null');
    s = String(s).replace(/[\r\n]/g, '').replace(/-/g, '+').replace(/_/g, '/');
    var out = [], bits = 0, acc = 0;
    for (var i = 0; i < s.length; i++) {
      var ch = s.charAt(i);
      if (ch === '=') break;
      var v = B64.indexOf(ch);
      if (v < 0) throw fail('IllegalArgumentException', 'Illegal base64 character ' + ch);
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        var byte = (acc >> bits) & 0xff;
        out.push(byte > 127 ? byte - 256 : byte);
      }
    }
    return bytesOut(out);
  }
  function prepareNumberString(value, bigEndian) {
    if (value === null || value === undefined) return null;
    value = String(value);
    if (value.trim() === '') return null;
    value = value.trim().split('0x').join('').split('0X').join('').split(',').join('.');
    return bigEndian ? value : reverseHex(value);
  }
  function reverseHex(value) {
    if (value.charAt(0) === '-') throw fail('IllegalArgumentException', 'The hexadecimal string must be without a negative sign.');
    if (value.length % 2) throw fail('IllegalArgumentException', 'The hexadecimal string must be even-length.');
    var out = '';
    for (var i = value.length - 2; i >= 0; i -= 2) out += value.substr(i, 2);
    return out;
  }
  function isDecimal(s) {
    return typeof s === 'string' && /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? 10 : -1;
  }
  function isHexadecimal(s) {
    return typeof s === 'string' && /^-?(0[xX])?[0-9a-fA-F]+$/.test(s) ? 16 : -1;
  }
  function radixOf(valueP, radix, value) {
    var r;
    if (radix === 0) {
      r = isDecimal(valueP) > 0 ? 10 : isHexadecimal(valueP);
      if (r < 0) throw fail('NumberFormatException', 'Value: "' + value + '" is not numeric or hexDecimal format!');
    } else if (radix >= 25 && radix <= 36) return radix;
    else if (radix === 2) r = /^[01]+$/.test(valueP) ? 2 : -1;
    else if (radix === 8) r = /^[0-7]+$/.test(valueP) ? 8 : -1;
    else if (radix === 10) r = isDecimal(valueP);
    else if (radix === 16) r = isHexadecimal(valueP);
    else throw fail('IllegalArgumentException', 'Invalid radix: [' + radix + ']');
    if (r < 0) throw fail('NumberFormatException', radix > 0 ? 'Failed radix [' + radix + '] for value: "' + value + '", must be [' + r + '] !' : 'Invalid "' + value + '". It is not numeric or hexadecimal format!');
    if (String(value).indexOf('0x') === 0) r = 16;
    if (r === 16) {
      var digits = String(value).charAt(0) === '-' ? String(value).slice(1) : String(value);
      if (digits.length % 2) throw fail('NumberFormatException', 'The hexadecimal value: "' + value + '" must be of even length, or if the decimal value must be a number!');
    }
    return r;
  }
  /** Java Integer.parseInt / Long.parseLong: sign and digits of the radix only, range-checked. */
  function javaParseInteger(s, radix, min, max) {
    s = String(s);
    var digits = radix === 10 ? /^[+-]?[0-9]+$/ : radix === 16 ? /^[+-]?[0-9a-fA-F]+$/ : radix === 2 ? /^[+-]?[01]+$/ : radix === 8 ? /^[+-]?[0-7]+$/ : /^[+-]?[0-9a-zA-Z]+$/;
    if (!digits.test(s)) throw fail('NumberFormatException', 'For input string: "' + s + '"' + (radix !== 10 ? ' under radix ' + radix : ''));
    var neg = s.charAt(0) === '-';
    var body = s.charAt(0) === '-' || s.charAt(0) === '+' ? s.slice(1) : s;
    var big = BigIntFn(0), r = BigIntFn(radix);
    for (var i = 0; i < body.length; i++) {
      var d = parseInt(body.charAt(i), radix);
      if (d !== d) throw fail('NumberFormatException', 'For input string: "' + s + '"');
      big = big * r + BigIntFn(d);
    }
    if (neg) big = -big;
    if (big > BigIntFn(max) || big < BigIntFn(min)) throw fail('NumberFormatException', 'For input string: "' + s + '"' + (radix !== 10 ? ' under radix ' + radix : ''));
    return Number(big);
  }
  var LONG_MAX = '9223372036854775807', LONG_MIN = '-9223372036854775808';
  function tbParseIntLong(value, radix, bigEndian, isInt) {
    var valueP = prepareNumberString(value, bigEndian);
    if (valueP === null) return null;
    var r = radixOf(valueP, radix, value);
    var min = isInt ? String(INT_MIN) : LONG_MIN, max = isInt ? String(INT_MAX) : LONG_MAX;
    if (r === 2) {
      var width = isInt ? 32 : 64;
      if (valueP.length < width) valueP = new Array(width - valueP.length + 1).join('0') + valueP;
      var v = BigIntFn('0b' + valueP);
      if (valueP.charAt(0) === '1') v = v - (BigIntFn(1) << BigIntFn(width));
      return Number(v);
    }
    return javaParseInteger(valueP, r, min, max);
  }
  function shortFloat(x) {
    var f = fround(x);
    if (f !== f || f === Infinity || f === -Infinity || f === 0) return f;
    for (var p = 1; p <= 9; p++) {
      var s = Number(f.toPrecision(p));
      if (fround(s) === f) return s;
    }
    return f;
  }
  function floatFromBits(bits) {
    var view = new DataView(new ArrayBuffer(4));
    view.setInt32(0, bits | 0);
    return shortFloat(view.getFloat32(0));
  }
  function doubleFromBits(hi, lo) {
    var view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, hi >>> 0);
    view.setUint32(4, lo >>> 0);
    return view.getFloat64(0);
  }
  function byteWindow(data, offset, length, max) {
    var b = signedBytes(data);
    if (offset === undefined || offset === null) offset = 0;
    if (length === undefined || length === null) length = b.length < offset ? b.length : Math.min(b.length - offset, max);
    if (length > max) throw fail('IllegalArgumentException', 'Length: ' + length + ' is too large. Maximum ' + max + ' bytes is allowed!');
    if (offset + length > b.length) throw fail('IllegalArgumentException', 'Offset: ' + offset + ' and Length: ' + length + ' is out of bounds for array with length: ' + b.length + '!');
    return { b: b, offset: offset, length: length };
  }
  /** Big-endian value of a byte window zero-padded on the left to width bytes (Java ByteBuffer semantics). */
  function padded(w, bigEndian, width) {
    var out = [];
    for (var i = 0; i < width; i++) out[i] = 0;
    for (var j = 0; j < w.length; j++) {
      var byte = w.b[w.offset + j] & 0xff;
      if (bigEndian) out[width - w.length + j] = byte;
      else out[width - 1 - j] = byte;
    }
    return out;
  }
  function bigOf(bytes) {
    var v = BigIntFn(0);
    for (var i = 0; i < bytes.length; i++) v = (v << BigIntFn(8)) | BigIntFn(bytes[i]);
    return v;
  }
  function bytesInt(data, offset, length, bigEndian) {
    var w = byteWindow(data, offset, length, 4);
    var p = padded(w, bigEndian !== false, 4);
    return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) | 0;
  }
  function bytesUnsignedInt(data, offset, length, bigEndian) {
    var w = byteWindow(data, offset, length, 4);
    var p = padded(w, bigEndian !== false, 4);
    return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
  }
  function bytesLong(data, offset, length, bigEndian) {
    var w = byteWindow(data, offset, length, 8);
    return Number(intN(64, bigOf(padded(w, bigEndian !== false, 8))));
  }
  function bytesFloat(data, offset, length, bigEndian) {
    var w = byteWindow(data, offset, length, 4);
    var p = padded(w, bigEndian !== false, 4);
    var f = floatFromBits((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
    if (f !== f) throw fail('NumberFormatException', 'byte[] 0x' + hexOf(w.b) + ' is a Not-a-Number (NaN) value');
    return f;
  }
  function bytesDouble(data, offset, length, bigEndian) {
    var w = byteWindow(data, offset, length, 8);
    var p = padded(w, bigEndian !== false, 8);
    var d = doubleFromBits((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3], (p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]);
    if (d !== d) throw fail('NumberFormatException', 'byte[] 0x' + hexOf(w.b) + ' is a Not-a-Number (NaN) value');
    return d;
  }
  function bytesUnsignedBig(data, offset, length, bigEndian, max) {
    var w = byteWindow(data, offset, length, max);
    var ordered = [];
    for (var i = 0; i < w.length; i++) ordered[i] = w.b[w.offset + i] & 0xff;
    if (bigEndian === false) ordered.reverse();
    return bigOf(ordered);
  }
  var HEX = '0123456789ABCDEF';
  function hexOf(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) {
      var v = bytes[i] & 0xff;
      s += HEX.charAt(v >> 4) + HEX.charAt(v & 15);
    }
    return s;
  }
  function hexToSigned(value) {
    var hex = prepareNumberString(value, true);
    if (hex === null) throw fail('IllegalArgumentException', 'Hex string must be not empty!');
    if (hex.length % 2) throw fail('IllegalArgumentException', 'Hex string must be even-length.');
    if (isHexadecimal(String(value)) !== 16) throw fail('NumberFormatException', 'Value: "' + value + '" is not numeric or hexDecimal format!');
    var out = [];
    for (var i = 0; i < hex.length; i += 2) {
      var b = parseInt(hex.substr(i, 2), 16);
      out.push(b > 127 ? b - 256 : b);
    }
    return bytesOut(out);
  }
  function hexString(n, bigEndian, pref, len, hexLenMax) {
    var big = uintN(64, BigIntFn(trunc(n)));
    var hex = big.toString(16).toUpperCase();
    if (hexLenMax < 0) hexLenMax = hex.length;
    var h = hex.replace(/^0+(?!$)/, '');
    if (h.length % 2) h = '0' + h;
    if (n < 0) {
      var f = h.replace(/^F+(?!$)/, '');
      if (f.length % 2) f = 'F' + f;
      if (f.length > hexLenMax) f = f.slice(f.length - hexLenMax);
      else if (f.length < hexLenMax && (parseInt(f.charAt(0), 16) & 8) === 0) f = 'FF' + f;
      h = f;
    }
    if (bigEndian === false) h = reverseHex(h);
    if (len === undefined || len === null || len === -1) len = h.length;
    var result = h.slice(Math.max(0, h.length - len));
    return pref ? '0x' + result : result;
  }
  function roundHalfUp(value, precision) {
    if (typeof value !== 'number') value = num(value, 'double');
    if (value !== value || value === Infinity || value === -Infinity) throw fail('NumberFormatException', 'Infinite or NaN');
    var s = String(abs(value));
    if (s.indexOf('e') >= 0) {
      var m = pow(10, precision);
      return (value < 0 ? -1 : 1) * floor(abs(value) * m + 0.5) / m;
    }
    var dot = s.indexOf('.');
    var ip = dot < 0 ? s : s.slice(0, dot), fp = dot < 0 ? '' : s.slice(dot + 1);
    if (precision < 0) return (value < 0 ? -1 : 1) * floor(abs(value) / pow(10, -precision) + 0.5) * pow(10, -precision);
    if (fp.length <= precision) return value;
    var digits = (ip + fp.slice(0, precision)).split('').map(Number);
    if (Number(fp.charAt(precision)) >= 5) {
      var k = digits.length - 1;
      while (k >= 0) {
        if (digits[k] === 9) { digits[k] = 0; k--; }
        else { digits[k]++; break; }
      }
      if (k < 0) digits.unshift(1);
    }
    var intLen = digits.length - precision;
    var text = digits.slice(0, intLen).join('') + (precision > 0 ? '.' + digits.slice(intLen).join('') : '');
    var r = Number(text);
    return value < 0 && r !== 0 ? -r : r;
  }
  function binaryArray(value, binLength, bigEndian, width) {
    var bits = [];
    var v = uintN(width, BigIntFn(trunc(value)));
    for (var i = 0; i < width; i++) bits.unshift(Number((v >> BigIntFn(i)) & BigIntFn(1)));
    if (binLength === undefined || binLength === null) binLength = width;
    var out = bits.slice(bits.length - binLength);
    if (bigEndian === false) out.reverse();
    return out;
  }
  function toFlatMap(json, a, b) {
    var exclude = isArray(a) ? a : [], pathInKey = typeof a === 'boolean' ? a : typeof b === 'boolean' ? b : true;
    var out = {};
    function walk(v, path) {
      if (isArray(v) || v instanceof TbSet) {
        var items = isArray(v) ? v : v.items;
        for (var i = 0; i < items.length; i++) walk(items[i], path + '.' + i);
      } else if (isPlainMap(v)) {
        var ks = objectKeys(v);
        for (var j = 0; j < ks.length; j++) {
          if (exclude.indexOf(ks[j]) >= 0) continue;
          walk(v[ks[j]], path === '' ? ks[j] : path + '.' + ks[j]);
        }
      } else if (pathInKey) out[path] = v;
      else {
        var k = path.slice(path.lastIndexOf('.') + 1);
        if (/^\d+$/.test(k)) {
          var pos = path.length;
          for (var n = 0; n < 2; n++) pos = path.lastIndexOf('.', pos - 1);
          k = path.slice(pos + 1);
        }
        out[k] = v;
      }
    }
    walk(json, '');
    return out;
  }
  function perimeterOf(p) {
    return typeof p === 'string' ? jsonParse(p) : p;
  }
  function distanceMeters(lat1, lon1, lat2, lon2) {
    var R = 6371000, rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * R * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
  }

  var tb = {
    btoa: function (s) { return b64Encode(utf8Encode(str(s))); },
    atob: function (s) { return utf8Decode(b64Decode(s)); },
    decodeToString: function (b) { return bytesToString(b); },
    decodeToJson: function (b) { return jsonParse(typeof b === 'string' ? b : bytesToString(b)); },
    bytesToString: bytesToString,
    stringToBytes: function (s, charset) {
      var cs = charset === undefined ? 'UTF-8' : String(charset).toUpperCase();
      var text = str(s);
      if (cs === 'ISO-8859-1' || cs === 'US-ASCII') return text.split('').map(function (c) { var b = c.charCodeAt(0) & 0xff; return b > 127 ? b - 256 : b; });
      return utf8Encode(text);
    },
    parseInt: function (v, radix) { return tbParseIntLong(v, radix || 0, true, true); },
    parseLong: function (v, radix) { return tbParseIntLong(v, radix || 0, true, false); },
    parseFloat: function (v, radix) {
      var p = prepareNumberString(v, true);
      if (p === null) return null;
      if (radixOf(p, radix || 0, v) === 16) return floatFromBits(parseInt(p, 16));
      return shortFloat(J.Double.parseDouble(String(v)));
    },
    parseDouble: function (v, radix) {
      var p = prepareNumberString(v, true);
      if (p === null) return null;
      if (radixOf(p, radix || 0, v) === 10) return J.Double.parseDouble(p);
      var big = BigIntFn('0x' + p);
      return doubleFromBits(Number(big >> BigIntFn(32)), Number(big & BigIntFn(0xffffffff)));
    },
    parseHexIntLongToFloat: function (v, bigEndian) {
      var p = prepareNumberString(v, bigEndian !== false);
      if (p === null) return null;
      radixOf(p, 16, v);
      return shortFloat(Number(intN(32, BigIntFn('0x' + p))));
    },
    parseLittleEndianHexToInt: function (h) { return tbParseIntLong(h, 16, false, true); },
    parseBigEndianHexToInt: function (h) { return tbParseIntLong(h, 16, true, true); },
    parseHexToInt: function (h, bigEndian) { return tbParseIntLong(h, 16, bigEndian !== false, true); },
    parseLittleEndianHexToLong: function (h) { return tbParseIntLong(h, 16, false, false); },
    parseBigEndianHexToLong: function (h) { return tbParseIntLong(h, 16, true, false); },
    parseHexToLong: function (h, bigEndian) { return tbParseIntLong(h, 16, bigEndian !== false, false); },
    parseLittleEndianHexToFloat: function (h) { return tb.parseHexToFloat(h, false); },
    parseBigEndianHexToFloat: function (h) { return tb.parseHexToFloat(h, true); },
    parseHexToFloat: function (h, bigEndian) {
      var p = prepareNumberString(h, bigEndian !== false);
      if (p === null) return null;
      if (radixOf(p, 16, h) === 16) return floatFromBits(Number(intN(32, BigIntFn('0x' + p))));
      return shortFloat(J.Double.parseDouble(String(h)));
    },
    parseLittleEndianHexToDouble: function (h) { return tb.parseHexToDouble(h, false); },
    parseBigEndianHexToDouble: function (h) { return tb.parseHexToDouble(h, true); },
    parseHexToDouble: function (h, bigEndian) {
      var p = prepareNumberString(h, bigEndian !== false);
      if (p === null) return null;
      radixOf(p, 16, h);
      var big = BigIntFn('0x' + p);
      return doubleFromBits(Number(big >> BigIntFn(32)), Number(big & BigIntFn(0xffffffff)));
    },
    hexToBytes: hexToSigned,
    hexToBytesArray: hexToSigned,
    printUnsignedBytes: function (b) { return signedBytes(b).map(function (x) { return x & 0xff; }); },
    intToHex: function (i, bigEndian, pref, len) { return hexString(i, bigEndian, pref, len, 8); },
    longToHex: function (l, bigEndian, pref, len) { return hexString(l, bigEndian, pref, len, 16); },
    intLongToRadixString: function (n, radix, bigEndian, pref) {
      radix = radix === undefined ? 10 : radix;
      if (radix === 16) return hexString(n, bigEndian, pref, -1, -1);
      if (radix === 2) {
        var b = uintN(64, BigIntFn(trunc(n))).toString(2);
        if (n >= 0) b = b.replace(/^0+(?!$)/, '');
        else b = b.replace(/^1+(?=1)/, '1');
        var width = b.length <= 8 ? 8 : b.length <= 16 ? 16 : b.length <= 32 ? 32 : 64;
        b = n >= 0 ? new Array(width - b.length + 1).join('0') + b : new Array(width - b.length + 1).join('1') + b;
        return pref ? '0b' + b : b;
      }
      if (radix === 8) return (pref ? '0' : '') + uintN(64, BigIntFn(trunc(n))).toString(8);
      return trunc(n).toString(radix);
    },
    floatToHex: function (f, bigEndian) {
      var view = new DataView(new ArrayBuffer(4));
      view.setFloat32(0, f);
      var h = '';
      for (var i = 0; i < 4; i++) h += HEX.charAt(view.getUint8(i) >> 4) + HEX.charAt(view.getUint8(i) & 15);
      return '0x' + (bigEndian === false ? reverseHex(h) : h);
    },
    doubleToHex: function (d, bigEndian) {
      var view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, d);
      var h = '';
      for (var i = 0; i < 8; i++) h += HEX.charAt(view.getUint8(i) >> 4) + HEX.charAt(view.getUint8(i) & 15);
      return '0x' + (bigEndian === false ? reverseHex(h) : h);
    },
    base64ToHex: function (s) { return hexOf(b64Decode(s)); },
    hexToBase64: function (h) { return b64Encode(hexToSigned(h)); },
    bytesToBase64: function (b) { return b64Encode(signedBytes(b)); },
    base64ToBytes: b64Decode,
    base64ToBytesList: b64Decode,
    parseBytesToInt: bytesInt,
    parseBytesToUnsignedInt: bytesUnsignedInt,
    parseBytesToLong: bytesLong,
    parseBytesToFloat: bytesFloat,
    parseBytesIntToFloat: function (data, offset, length, bigEndian) { return shortFloat(Number(bytesUnsignedBig(data, offset, length, bigEndian, 4))); },
    parseBytesToDouble: bytesDouble,
    parseBytesLongToDouble: function (data, offset, length, bigEndian) { return Number(bytesUnsignedBig(data, offset, length, bigEndian, 8)); },
    bytesToHex: function (b) { return hexOf(signedBytes(b)); },
    toFlatMap: toFlatMap,
    encodeURI: function (s) { return encodeURIComponent(str(s)).replace(/%20/g, '%20'); },
    decodeURI: function (s) { return decodeURIComponent(str(s)); },
    raiseError: function (message) { throw fail('RuntimeException', str(message)); },
    isBinary: function (s) { return typeof s === 'string' && /^[01]+$/.test(s) ? 2 : -1; },
    isOctal: function (s) { return typeof s === 'string' && /^[0-7]+$/.test(s) ? 8 : -1; },
    isDecimal: isDecimal,
    isHexadecimal: isHexadecimal,
    bytesToExecutionArrayList: function (b) { return signedBytes(b); },
    padStart: function (s, n, ch) { s = str(s); while (s.length < n) s = str(ch) + s; return s; },
    padEnd: function (s, n, ch) { s = str(s); while (s.length < n) s = s + str(ch); return s; },
    parseByteToBinaryArray: function (b, binLength, bigEndian) { return binaryArray(b, binLength, bigEndian, 8); },
    parseBytesToBinaryArray: function (list, binLength) {
      var b = signedBytes(list), out = [];
      for (var i = 0; i < b.length; i++) out = out.concat(binaryArray(b[i], 8, true, 8));
      return binLength === undefined ? out : out.slice(out.length - binLength);
    },
    parseLongToBinaryArray: function (l, binLength) { return binaryArray(l, binLength === undefined ? 64 : binLength, true, 64); },
    parseBinaryArrayToInt: function (list, offset, length) {
      offset = offset || 0;
      if (length === undefined) length = list.length - offset;
      var bits = list.slice(offset, offset + length), v = 0;
      for (var i = 0; i < bits.length; i++) v = v * 2 + (bits[i] & 1);
      if (bits.length === 8 && bits[0] === 1) v -= 256;
      return v;
    },
    isInsidePolygon: function (lat, lon, perimeter) {
      var poly = perimeterOf(perimeter), inside = false;
      for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
        var yi = poly[i][0], xi = poly[i][1], yj = poly[j][0], xj = poly[j][1];
        if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    },
    isInsideCircle: function (lat, lon, perimeter) {
      var c = perimeterOf(perimeter);
      var unit = { METER: 1, KILOMETER: 1000, FOOT: 0.3048, MILE: 1609.344, NAUTICAL_MILE: 1852 }[c.radiusUnit || 'METER'] || 1;
      return distanceMeters(lat, lon, c.latitude, c.longitude) <= c.radius * unit;
    },
    isMap: isPlainMap,
    isList: function (v) { return isArray(v); },
    isArray: function (v) { return isArray(v); },
    isSet: function (v) { return v instanceof TbSet; },
    newSet: function () { return new TbSet([]); },
    toSet: function (list) { return new TbSet(isArray(list) ? list : []); },
    toFixed: roundHalfUp,
    toInt: function (v) { return toIntValue(roundHalfUp(v, 0), 32); },
    isNaN: function (v) { return v !== v; },
  };

  // ---- collections ----
  function TbSet(items) {
    this.items = [];
    for (var i = 0; i < items.length; i++) this.add(items[i]);
  }
  TbSet.prototype.has = function (v) {
    for (var i = 0; i < this.items.length; i++) if (eq(this.items[i], v)) return true;
    return false;
  };
  TbSet.prototype.add = function (v) {
    if (this.has(v)) return false;
    this.items.push(v);
    return true;
  };
  TbSet.prototype.toJSON = function () { return this.items; };

  function TbStringBuilder(s) { this.s = s; }
  TbStringBuilder.prototype.toJSON = function () { return this.s; };

  function entrySet(o) {
    var ks = objectKeys(o), out = [];
    for (var i = 0; i < ks.length; i++) out[i] = { key: ks[i], value: o[ks[i]] };
    return out;
  }
  function putAll(o, m) {
    if (m === null || m === undefined) throw fail('NullPointerException', 'putAll(null)');
    if (isArray(m)) {
      // ThingsBoard converters call telemetry.putAll(...) on lists; a list of entries is what they pass
      for (var j = 0; j < m.length; j++) o.push(m[j]);
      return;
    }
    var ks = objectKeys(m);
    for (var i = 0; i < ks.length; i++) o[key(ks[i])] = m[ks[i]];
  }
  function checkIndex(l, i, size) {
    if (typeof i !== 'number' || i < 0 || i >= size || i !== floor(i)) throw fail('IndexOutOfBoundsException', 'Index ' + str(i) + ' out of bounds for length ' + l.length);
  }
  function sortValues(a, b) {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    var x = str(a), y = str(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function jsSliceIndex(i, len) {
    if (i === undefined) return undefined;
    return i;
  }
  var LIST = {
    add: function (l, a, b) {
      if (b === undefined && arguments.length < 3) { l.push(a); return true; }
      if (typeof a !== 'number' || a < 0 || a > l.length) throw fail('IndexOutOfBoundsException', 'Index: ' + str(a) + ', Size: ' + l.length);
      l.splice(a, 0, b);
    },
    addAll: function (l, a, b) {
      if (typeof a === 'number') { var items = iter(b); l.splice.apply(l, [a, 0].concat(items)); return items.length > 0; }
      var xs = iter(a);
      for (var i = 0; i < xs.length; i++) l.push(xs[i]);
      return xs.length > 0;
    },
    push: function (l, v) { l.push(v); return true; },
    pop: function (l) { return l.length ? l.pop() : null; },
    shift: function (l) { return l.length ? l.shift() : null; },
    unshift: function (l, v) { l.unshift(v); },
    get: function (l, i) { checkIndex(l, i, l.length); return l[i]; },
    set: function (l, i, v) { checkIndex(l, i, l.length); var old = l[i]; l[i] = v; return old; },
    size: function (l) { return l.length; },
    length: function (l) { return l.length; },
    isEmpty: function (l) { return l.length === 0; },
    contains: function (l, v) { for (var i = 0; i < l.length; i++) if (eq(l[i], v)) return true; return false; },
    containsAll: function (l, c) { var xs = iter(c); for (var i = 0; i < xs.length; i++) if (!LIST.contains(l, xs[i])) return false; return true; },
    indexOf: function (l, v, from) { for (var i = from || 0; i < l.length; i++) if (eq(l[i], v)) return i; return -1; },
    lastIndexOf: function (l, v) { for (var i = l.length - 1; i >= 0; i--) if (eq(l[i], v)) return i; return -1; },
    remove: function (l, v) {
      if (typeof v === 'number') { checkIndex(l, v, l.length); return l.splice(v, 1)[0]; }
      var i = LIST.indexOf(l, v);
      if (i < 0) return false;
      l.splice(i, 1);
      return true;
    },
    removeAll: function (l, c) { var xs = iter(c), changed = false; for (var i = l.length - 1; i >= 0; i--) if (LIST.contains(xs, l[i])) { l.splice(i, 1); changed = true; } return changed; },
    clear: function (l) { l.length = 0; },
    slice: function (l, s, e) { return l.slice(jsSliceIndex(s, l.length), jsSliceIndex(e, l.length)); },
    subList: function (l, s, e) { if (s < 0 || e > l.length || s > e) throw fail('IndexOutOfBoundsException', 'fromIndex: ' + s + ', toIndex: ' + e); return l.slice(s, e); },
    join: function (l, sep) { var parts = []; for (var i = 0; i < l.length; i++) parts[i] = str(l[i]); return parts.join(sep === undefined ? ',' : str(sep)); },
    sort: function (l, asc) { l.sort(sortValues); if (asc === false) l.reverse(); },
    toSorted: function (l, asc) { var c = l.slice(); LIST.sort(c, asc); return c; },
    reverse: function (l) { l.reverse(); },
    toReversed: function (l) { return l.slice().reverse(); },
    concat: function (l, c) { return l.concat(iter(c)); },
    splice: function (l) { var args = Array.prototype.slice.call(arguments, 1); return l.splice.apply(l, args); },
    toSpliced: function (l) { var c = l.slice(); c.splice.apply(c, Array.prototype.slice.call(arguments, 1)); return c; },
    with: function (l, i, v) { checkIndex(l, i, l.length); var c = l.slice(); c[i] = v; return c; },
    fill: function (l, v, s, e) { return l.fill(v, s, e); },
    toArray: function (l) { return l.slice(); },
    toString: function (l) { return str(l); },
    equals: function (l, o) { return eq(l, o); },
    hashCode: function (l) { return l.length; },
    stream: function (l) { return l; },
    getClass: function () { return 'java.util.ArrayList'; },
  };
  var MAP = {
    put: function (m, k, v) { var old = hasOwn.call(m, k) ? m[k] : null; m[key(k)] = v; return old; },
    get: function (m, k) { return hasOwn.call(m, k) && m[k] !== undefined ? m[k] : null; },
    getOrDefault: function (m, k, d) { return hasOwn.call(m, k) ? m[k] : d; },
    putAll: function (m, o) { putAll(m, o); },
    putIfAbsent: function (m, k, v) { if (hasOwn.call(m, k) && m[k] !== null) return m[k]; m[key(k)] = v; return null; },
    containsKey: function (m, k) { return hasOwn.call(m, k); },
    containsValue: function (m, v) { var ks = objectKeys(m); for (var i = 0; i < ks.length; i++) if (eq(m[ks[i]], v)) return true; return false; },
    remove: function (m, k) { if (!hasOwn.call(m, k)) return null; var old = m[k]; delete m[k]; return old; },
    keySet: function (m) { return objectKeys(m); },
    keys: function (m) { return objectKeys(m); },
    values: function (m) { return values(m); },
    entrySet: entrySet,
    size: function (m) { return objectKeys(m).length; },
    isEmpty: function (m) { return objectKeys(m).length === 0; },
    clear: function (m) { var ks = objectKeys(m); for (var i = 0; i < ks.length; i++) delete m[ks[i]]; },
    replace: function (m, k, v) { if (!hasOwn.call(m, k)) return null; var old = m[k]; m[k] = v; return old; },
    getKey: function (m) { return hasOwn.call(m, 'key') ? m.key : null; },
    getValue: function (m) { return hasOwn.call(m, 'value') ? m.value : null; },
    setValue: function (m, v) { var old = m.value; m.value = v; return old; },
    sortByKey: function (m, asc) { var ks = objectKeys(m).sort(sortValues); if (asc === false) ks.reverse(); reorder(m, ks); },
    sortByValue: function (m, asc) { var ks = objectKeys(m).sort(function (a, b) { return sortValues(m[a], m[b]); }); if (asc === false) ks.reverse(); reorder(m, ks); },
    toString: function (m) { return str(m); },
    equals: function (m, o) { return eq(m, o); },
    getClass: function () { return 'java.util.LinkedHashMap'; },
  };
  function reorder(m, ks) {
    var vals = ks.map(function (k) { return m[k]; });
    MAP.clear(m);
    for (var i = 0; i < ks.length; i++) m[ks[i]] = vals[i];
  }
  function javaSplitRegex(s, re, limit) {
    var parts = s.split(new RegExp(re));
    if (limit === undefined || limit === 0) while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    if (parts.length && parts[0] === '' && s.length > 0 && re !== '' && new RegExp('^(?:' + re + ')').test(s) && new RegExp('^(?:' + re + ')').exec(s)[0].length > 0) {
      // Java keeps a leading empty string only when the match at 0 is not zero-width: same as JS here
    }
    if (limit > 0 && parts.length > limit) {
      var head = parts.slice(0, limit - 1), rest = s, r = new RegExp(re, 'g'), count = 0, m, cut = 0;
      while (count < limit - 1 && (m = r.exec(s)) !== null) { cut = m.index + m[0].length; count++; if (m[0].length === 0) r.lastIndex++; }
      rest = s.slice(cut);
      head.push(rest);
      return head;
    }
    return parts;
  }
  function javaReplacement(r) {
    return str(r).replace(/\$(\d)/g, '$$$1').replace(/\\\$/g, '$$$$');
  }
  var STR = {
    length: function (s) { return s.length; },
    size: function (s) { return s.length; },
    charAt: function (s, i) { if (i < 0 || i >= s.length) throw fail('StringIndexOutOfBoundsException', 'index ' + i + ', length ' + s.length); return s.charAt(i); },
    charCodeAt: function (s, i) { return s.charCodeAt(i); },
    codePointAt: function (s, i) { return s.codePointAt(i); },
    substring: function (s, a, b) {
      var e = b === undefined ? s.length : b;
      if (a < 0 || e > s.length || a > e) throw fail('StringIndexOutOfBoundsException', 'begin ' + a + ', end ' + e + ', length ' + s.length);
      return s.substring(a, e);
    },
    substr: function (s, a, n) { return s.substr(a, n); },
    slice: function (s, a, b) { return s.slice(a, b); },
    indexOf: function (s, x, from) { return s.indexOf(str(x), from); },
    lastIndexOf: function (s, x, from) { return from === undefined ? s.lastIndexOf(str(x)) : s.lastIndexOf(str(x), from); },
    contains: function (s, x) { return s.indexOf(str(x)) >= 0; },
    includes: function (s, x) { return s.indexOf(str(x)) >= 0; },
    startsWith: function (s, x, at) { return s.startsWith(str(x), at); },
    endsWith: function (s, x) { return s.endsWith(str(x)); },
    toUpperCase: function (s) { return s.toUpperCase(); },
    toLowerCase: function (s) { return s.toLowerCase(); },
    trim: function (s) { return s.trim(); },
    strip: function (s) { return s.trim(); },
    isEmpty: function (s) { return s.length === 0; },
    isBlank: function (s) { return s.trim().length === 0; },
    equals: function (s, o) { return s === o; },
    equalsIgnoreCase: function (s, o) { return typeof o === 'string' && s.toLowerCase() === o.toLowerCase(); },
    compareTo: function (s, o) { return s < o ? -1 : s > o ? 1 : 0; },
    replace: function (s, a, b) { return s.split(str(a)).join(str(b)); },
    replaceAll: function (s, re, r) { return s.replace(new RegExp(re, 'g'), javaReplacement(r)); },
    replaceFirst: function (s, re, r) { return s.replace(new RegExp(re), javaReplacement(r)); },
    matches: function (s, re) { return new RegExp('^(?:' + re + ')$').test(s); },
    split: function (s, re, limit) { return javaSplitRegex(s, re, limit); },
    concat: function (s, o) { return s + str(o); },
    repeat: function (s, n) { return s.repeat(n); },
    padStart: function (s, n, p) { return s.padStart(n, p === undefined ? ' ' : str(p)); },
    padEnd: function (s, n, p) { return s.padEnd(n, p === undefined ? ' ' : str(p)); },
    toCharArray: function (s) { return s.split(''); },
    getBytes: function (s, cs) { return tb.stringToBytes(s, cs); },
    toString: function (s) { return s; },
    hashCode: function (s) { var h = 0; for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; },
    format: function (s) { return javaFormat(s, Array.prototype.slice.call(arguments, 1)); },
    intern: function (s) { return s; },
  };
  var NUM = {
    toString: function (n, radix) { return radix === undefined ? numText(n) : trunc(n).toString(radix); },
    intValue: function (n) { return toIntValue(n, 32); },
    longValue: function (n) { return trunc(n); },
    doubleValue: function (n) { return n; },
    floatValue: function (n) { return shortFloat(n); },
    shortValue: function (n) { return (toIntValue(n, 32) << 16) >> 16; },
    byteValue: function (n) { return (toIntValue(n, 32) << 24) >> 24; },
    equals: function (n, o) { return n === o; },
    compareTo: function (n, o) { return n < o ? -1 : n > o ? 1 : 0; },
    isNaN: function (n) { return n !== n; },
    toFixed: function (n, p) { return n.toFixed(p); },
    hashCode: function (n) { return n | 0; },
  };
  var BOOL = {
    toString: function (b) { return b ? 'true' : 'false'; },
    booleanValue: function (b) { return b; },
    equals: function (b, o) { return b === o; },
  };
  var SET = {
    add: function (s, v) { return s.add(v); },
    addAll: function (s, c) { var xs = iter(c), changed = false; for (var i = 0; i < xs.length; i++) if (s.add(xs[i])) changed = true; return changed; },
    contains: function (s, v) { return s.has(v); },
    remove: function (s, v) { for (var i = 0; i < s.items.length; i++) if (eq(s.items[i], v)) { s.items.splice(i, 1); return true; } return false; },
    size: function (s) { return s.items.length; },
    isEmpty: function (s) { return s.items.length === 0; },
    clear: function (s) { s.items.length = 0; },
    toList: function (s) { return s.items.slice(); },
    toString: function (s) { return str(s.items); },
  };
  var SB = {
    append: function (b, v) { b.s += str(v); return b; },
    toString: function (b) { return b.s; },
    length: function (b) { return b.s.length; },
    insert: function (b, i, v) { b.s = b.s.slice(0, i) + str(v) + b.s.slice(i); return b; },
    reverse: function (b) { b.s = b.s.split('').reverse().join(''); return b; },
    setLength: function (b, n) { b.s = b.s.slice(0, n); },
    charAt: function (b, i) { return b.s.charAt(i); },
  };
  var ERR = {
    getMessage: function (e) { return e.message; },
    toString: function (e) { return str(e); },
  };

  // ---- TBEL's Date (epoch milliseconds, UTC on the gateway) ----
  function parseDate(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s.trim());
    if (m) {
      var ms = m[7] ? Number((m[7] + '00').slice(0, 3)) : 0;
      var t = DateCtor.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] || 0), Number(m[5] || 0), Number(m[6] || 0), ms);
      if (m[8] && m[8].toUpperCase() !== 'Z') {
        var sign = m[8].charAt(0) === '-' ? -1 : 1, z = m[8].slice(1).replace(':', '');
        t -= sign * (Number(z.slice(0, 2)) * 60 + Number(z.slice(2, 4) || 0)) * 60000;
      }
      return t;
    }
    var p = dateParse(s);
    if (p !== p) throw fail('DateTimeParseException', 'Text \'' + s + '\' could not be parsed');
    return p;
  }
  function TbDate(args) {
    var a = args[0];
    if (args.length === 0) this.t = dateNow();
    else if (args.length === 1 && typeof a === 'number') this.t = a;
    else if (args.length === 1 && a instanceof TbDate) this.t = a.t;
    else if (typeof a === 'string') this.t = parseDate(a);
    else if (args.length >= 2 && typeof a === 'number') this.t = DateCtor.UTC(a, args[1], args.length > 2 ? args[2] : 1, args[3] || 0, args[4] || 0, args[5] || 0, args[6] || 0);
    else throw fail('IllegalArgumentException', 'cannot make a Date from ' + str(a));
  }
  TbDate.prototype.toJSON = function () { return new DateCtor(this.t).toISOString(); };
  TbDate.prototype.toString = function () { return new DateCtor(this.t).toISOString(); };
  function utc(method) {
    return function (d) { return new DateCtor(d.t)[method](); };
  }
  var DATE = {
    getTime: function (d) { return d.t; },
    valueOf: function (d) { return d.t; },
    setTime: function (d, t) { d.t = t; },
    toISOString: function (d) { return new DateCtor(d.t).toISOString(); },
    toJSON: function (d) { return new DateCtor(d.t).toISOString(); },
    toString: function (d) { return d.toString(); },
    getFullYear: utc('getUTCFullYear'), getMonth: utc('getUTCMonth'), getDate: utc('getUTCDate'), getDay: utc('getUTCDay'),
    getHours: utc('getUTCHours'), getMinutes: utc('getUTCMinutes'), getSeconds: utc('getUTCSeconds'), getMilliseconds: utc('getUTCMilliseconds'),
    getUTCFullYear: utc('getUTCFullYear'), getUTCMonth: utc('getUTCMonth'), getUTCDate: utc('getUTCDate'), getUTCDay: utc('getUTCDay'),
    getUTCHours: utc('getUTCHours'), getUTCMinutes: utc('getUTCMinutes'), getUTCSeconds: utc('getUTCSeconds'), getUTCMilliseconds: utc('getUTCMilliseconds'),
  };

  // ---- method dispatch ----
  // Method tables without a prototype: a method name is looked up by plain indexing (no own-property check
  // per call), and "constructor", "toString"… are not methods unless a table defines them.
  function bare(t) {
    var o = Object.create(null), ks = objectKeys(t);
    for (var i = 0; i < ks.length; i++) o[ks[i]] = t[ks[i]];
    return o;
  }
  LIST = bare(LIST); MAP = bare(MAP); STR = bare(STR); NUM = bare(NUM); BOOL = bare(BOOL); SET = bare(SET); SB = bare(SB); ERR = bare(ERR); DATE = bare(DATE);
  function tableOf(o) {
    if (isArray(o)) return LIST;
    var t = typeof o;
    if (t === 'string') return STR;
    if (t === 'number') return NUM;
    if (t === 'boolean') return BOOL;
    if (o instanceof TbDate) return DATE;
    if (o instanceof TbSet) return SET;
    if (o instanceof TbStringBuilder) return SB;
    if (o instanceof ErrorCtor) return ERR;
    return MAP;
  }
  function method(o, name) {
    if (o === null || o === undefined) throw fail('NullPointerException', 'cannot call ' + name + '() on null');
    var f = tableOf(o)[name];
    if (f === undefined) throw fail('MethodNotFoundException', 'a ' + typeName(o) + ' has no method ' + name + '()');
    return f;
  }
  // o.name(…) by the number of arguments (the translator picks one; no arguments object per call)
  function c0(o, name) { return method(o, name)(o); }
  function c1(o, name, a) { return method(o, name)(o, a); }
  function c2(o, name, a, b) { return method(o, name)(o, a, b); }
  function c(o, name, a, b, d) {
    var f = method(o, name);
    switch (arguments.length) {
      case 2: return f(o);
      case 3: return f(o, a);
      case 4: return f(o, a, b);
      case 5: return f(o, a, b, d);
    }
    var args = Array.prototype.slice.call(arguments, 1);
    args[0] = o;
    return f.apply(null, args);
  }
  function cn(o) {
    if (o === null || o === undefined) return null;
    return c.apply(null, arguments);
  }

  // ---- java.util.Formatter subset (String.format) ----
  function javaFormat(fmt, args) {
    var n = 0;
    return str(fmt).replace(/%(\d+\$)?([-#+ 0,(]*)(\d+)?(\.\d+)?([a-zA-Z%])/g, function (all, pos, flags, width, prec, conv) {
      if (conv === '%') return '%';
      if (conv === 'n') return '\n';
      var v = pos ? args[parseInt(pos, 10) - 1] : args[n++];
      var p = prec ? parseInt(prec.slice(1), 10) : undefined;
      var s;
      switch (conv) {
        case 'd':
          if (typeof v !== 'number' || v !== trunc(v)) throw fail('IllegalFormatConversionException', 'd != ' + typeName(v));
          s = String(abs(v));
          if (flags.indexOf(',') >= 0) s = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
          if (v < 0) s = '-' + s;
          else if (flags.indexOf('+') >= 0) s = '+' + s;
          else if (flags.indexOf(' ') >= 0) s = ' ' + s;
          break;
        case 'x': case 'X': case 'o':
          if (typeof v !== 'number') throw fail('IllegalFormatConversionException', conv + ' != ' + typeName(v));
          var width64 = v < INT_MIN || v > INT_MAX;
          // A negative value in byte range formats as a byte (Java's %x of a Byte): TBEL's bytes are signed and
          // String.format("%02x", payload[i]) is what converters write. Other negatives format as int or long.
          var bitsWide = v >= -128 && v < 0 ? 8 : width64 ? 64 : 32;
          s = (v < 0 ? uintN(bitsWide, BigIntFn(trunc(v))) : BigIntFn(trunc(v))).toString(conv === 'o' ? 8 : 16);
          if (flags.indexOf('#') >= 0) s = (conv === 'o' ? '0' : '0x') + s;
          if (conv === 'X') s = s.toUpperCase();
          break;
        case 'f': case 'e': case 'E': case 'g':
          if (typeof v !== 'number') throw fail('IllegalFormatConversionException', conv + ' != ' + typeName(v));
          s = conv === 'f' ? roundHalfUp(abs(v), p === undefined ? 6 : p).toFixed(p === undefined ? 6 : p) : abs(v).toExponential(p === undefined ? 6 : p).replace(/e([+-])(\d)$/, 'e$10$2');
          if (conv === 'E') s = s.toUpperCase();
          if (flags.indexOf(',') >= 0) s = s.replace(/^(\d+)/, function (d) { return d.replace(/\B(?=(\d{3})+(?!\d))/g, ','); });
          if (v < 0 || Object.is(v, -0)) s = '-' + s;
          else if (flags.indexOf('+') >= 0) s = '+' + s;
          break;
        case 'b': case 'B':
          s = v === null || v === undefined ? 'false' : typeof v === 'boolean' ? String(v) : 'true';
          break;
        case 'c':
          s = typeof v === 'number' ? fromCharCode(v) : str(v).charAt(0);
          break;
        case 's': case 'S':
          s = str(v);
          if (p !== undefined) s = s.slice(0, p);
          if (conv === 'S') s = s.toUpperCase();
          break;
        default:
          throw fail('UnknownFormatConversionException', 'Conversion = \'' + conv + '\'');
      }
      if (width) {
        var w = parseInt(width, 10);
        if (s.length < w) {
          if (flags.indexOf('-') >= 0) s = s + new Array(w - s.length + 1).join(' ');
          else if (flags.indexOf('0') >= 0 && conv !== 's') {
            var sign = /^[+\- ]/.test(s) ? s.charAt(0) : '';
            var body = sign ? s.slice(1) : s;
            var prefix = /^0x/i.test(body) ? body.slice(0, 2) : '';
            body = body.slice(prefix.length);
            s = sign + prefix + new Array(w - s.length + 1).join('0') + body;
          } else s = new Array(w - s.length + 1).join(' ') + s;
        }
      }
      return s;
    });
  }

  // ---- Java classes ----
  function javaClass(name, members) {
    members.$m = function (method) {
      var f = hasOwn.call(members, method) ? members[method] : undefined;
      if (typeof f !== 'function') throw fail('MethodNotFoundException', name + ' has no method ' + method + '()');
      return f;
    };
    return members;
  }
  function integerClass(name, min, max, bits) {
    return javaClass(name, {
      MAX_VALUE: Number(max), MIN_VALUE: Number(min), SIZE: bits, BYTES: bits / 8,
      parseInt: function (s, r) { return javaParseInteger(s, r || 10, min, max); },
      parseLong: function (s, r) { return javaParseInteger(s, r || 10, min, max); },
      parseShort: function (s, r) { return javaParseInteger(s, r || 10, min, max); },
      parseByte: function (s, r) { return javaParseInteger(s, r || 10, min, max); },
      valueOf: function (v, r) { return typeof v === 'string' ? javaParseInteger(v, r || 10, min, max) : cast(name, v); },
      toString: function (v, r) { return r === undefined ? numText(v) : trunc(v).toString(r); },
      toHexString: function (v) { return (v < 0 ? uintN(bits, BigIntFn(trunc(v))) : BigIntFn(trunc(v))).toString(16); },
      toBinaryString: function (v) { return (v < 0 ? uintN(bits, BigIntFn(trunc(v))) : BigIntFn(trunc(v))).toString(2); },
      toOctalString: function (v) { return (v < 0 ? uintN(bits, BigIntFn(trunc(v))) : BigIntFn(trunc(v))).toString(8); },
      toUnsignedInt: function (v) { return v & 0xff; },
      toUnsignedLong: function (v) { return v < 0 ? Number(uintN(32, BigIntFn(v))) : v; },
      parseUnsignedInt: function (s, r) { return javaParseInteger(s, r || 10, '0', bits === 32 ? '4294967295' : max); },
      compare: function (a, b) { return a < b ? -1 : a > b ? 1 : 0; },
      signum: function (v) { return v > 0 ? 1 : v < 0 ? -1 : 0; },
      bitCount: function (v) { var s = uintN(bits, BigIntFn(trunc(v))).toString(2); return s.split('1').length - 1; },
      reverseBytes: function (v) { return bits === 32 ? ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff) : bits === 16 ? (((v & 0xff) << 24) >> 16) | ((v >> 8) & 0xff) : v; },
      sum: function (a, b) { return a + b; },
      max: function (a, b) { return Math.max(a, b); },
      min: function (a, b) { return Math.min(a, b); },
      abs: function (a) { return abs(a); },
    });
  }
  function parseJavaDouble(s) {
    if (typeof s === 'number') return s;
    var t = str(s).trim();
    if (/^[+-]?(NaN|Infinity)$/.test(t)) return Number(t);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/.test(t) && !/^[+-]?0[xX][0-9a-fA-F]+$/.test(t)) throw fail('NumberFormatException', 'For input string: "' + str(s) + '"');
    return Number(t.replace(/[fFdD]$/, ''));
  }
  function floatingClass(name, isFloat) {
    var shape = isFloat ? shortFloat : function (v) { return v; };
    return javaClass(name, {
      MAX_VALUE: isFloat ? 3.4028234663852886e38 : Number.MAX_VALUE, MIN_VALUE: isFloat ? 1.401298464324817e-45 : Number.MIN_VALUE,
      POSITIVE_INFINITY: Infinity, NEGATIVE_INFINITY: -Infinity, NaN: NaN,
      parseDouble: function (s) { return shape(parseJavaDouble(s)); },
      parseFloat: function (s) { return shape(parseJavaDouble(s)); },
      valueOf: function (s) { return shape(parseJavaDouble(s)); },
      toString: function (v) { return numText(v); },
      isNaN: function (v) { return v !== v; },
      isInfinite: function (v) { return v === Infinity || v === -Infinity; },
      isFinite: function (v) { return isFinite(v); },
      compare: function (a, b) { return a < b ? -1 : a > b ? 1 : 0; },
      intBitsToFloat: function (bits) { return floatFromBits(bits); },
      floatToIntBits: function (f) { var v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, f); return v.getInt32(0); },
      longBitsToDouble: function (bits) { var big = uintN(64, BigIntFn(bits)); return doubleFromBits(Number(big >> BigIntFn(32)), Number(big & BigIntFn(0xffffffff))); },
      sum: function (a, b) { return a + b; },
      max: function (a, b) { return Math.max(a, b); },
      min: function (a, b) { return Math.min(a, b); },
    });
  }
  var J = {
    Integer: integerClass('Integer', String(INT_MIN), String(INT_MAX), 32),
    Long: integerClass('Long', LONG_MIN, LONG_MAX, 64),
    Short: integerClass('Short', '-32768', '32767', 16),
    Byte: integerClass('Byte', '-128', '127', 8),
    Double: floatingClass('Double', false),
    Float: floatingClass('Float', true),
    Number: floatingClass('Number', false),
    Boolean: javaClass('Boolean', {
      TRUE: true, FALSE: false,
      parseBoolean: function (s) { return typeof s === 'string' && s.toLowerCase() === 'true'; },
      valueOf: function (s) { return typeof s === 'boolean' ? s : typeof s === 'string' && s.toLowerCase() === 'true'; },
      toString: function (b) { return b ? 'true' : 'false'; },
    }),
    Character: javaClass('Character', {
      isDigit: function (ch) { return /^[0-9]$/.test(str(ch)); },
      isLetter: function (ch) { return /^[A-Za-z\u00c0-\uffff]$/.test(str(ch)); },
      isLetterOrDigit: function (ch) { return /^[A-Za-z0-9\u00c0-\uffff]$/.test(str(ch)); },
      isWhitespace: function (ch) { return /^\s$/.test(str(ch)); },
      isUpperCase: function (ch) { var s = str(ch); return s !== s.toLowerCase(); },
      isLowerCase: function (ch) { var s = str(ch); return s !== s.toUpperCase(); },
      toUpperCase: function (ch) { return str(ch).toUpperCase(); },
      toLowerCase: function (ch) { return str(ch).toLowerCase(); },
      getNumericValue: function (ch) { var d = parseInt(str(ch), 36); return d === d ? d : -1; },
      toString: function (ch) { return typeof ch === 'number' ? fromCharCode(ch) : str(ch); },
      valueOf: function (ch) { return ch; },
    }),
    Math: javaClass('Math', {
      PI: Math.PI, E: Math.E,
      abs: abs, pow: pow, sqrt: Math.sqrt, cbrt: Math.cbrt, floor: floor, ceil: Math.ceil, exp: Math.exp, log: Math.log, log10: Math.log10,
      sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan, atan2: Math.atan2, hypot: Math.hypot,
      sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, signum: Math.sign, random: Math.random, trunc: trunc, log1p: Math.log1p, expm1: Math.expm1,
      round: function (v) { return floor(v + 0.5); },
      rint: function (v) { var f = floor(v), d = v - f; return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f; },
      max: function (a, b) { return Math.max(a, b); },
      min: function (a, b) { return Math.min(a, b); },
      toRadians: function (d) { return d * Math.PI / 180; },
      toDegrees: function (r) { return r * 180 / Math.PI; },
      floorDiv: function (a, b) { return floor(a / b); },
      floorMod: function (a, b) { return a - floor(a / b) * b; },
    }),
    String: javaClass('String', {
      format: function (f) { return javaFormat(f, Array.prototype.slice.call(arguments, 1)); },
      valueOf: function (v) { return isArray(v) ? v.join('') : str(v); },
      join: function (sep) {
        var items = arguments.length === 2 && (isArray(arguments[1]) || arguments[1] instanceof TbSet) ? iter(arguments[1]) : Array.prototype.slice.call(arguments, 1);
        return items.map(str).join(str(sep));
      },
      fromCharCode: function () { return fromCharCode.apply(null, arguments); },
    }),
    Arrays: javaClass('Arrays', {
      copyOfRange: function (a, from, to) {
        if (from < 0 || from > a.length) throw fail('ArrayIndexOutOfBoundsException', 'Array index out of range: ' + from);
        if (from > to) throw fail('IllegalArgumentException', from + ' > ' + to);
        var out = a.slice(from, to);
        while (out.length < to - from) out.push(0);
        return out;
      },
      copyOf: function (a, n) { var out = a.slice(0, n); while (out.length < n) out.push(0); return out; },
      asList: function () { return arguments.length === 1 && isArray(arguments[0]) ? arguments[0].slice() : Array.prototype.slice.call(arguments); },
      toString: function (a) { return str(a); },
      fill: function (a, v) { a.fill(v); },
      sort: function (a) { a.sort(sortValues); },
      equals: function (a, b) { return eq(a, b); },
    }),
    System: javaClass('System', {
      currentTimeMillis: function () { return dateNow(); },
      nanoTime: function () { return dateNow() * 1e6; },
    }),
    Collections: javaClass('Collections', {
      sort: function (l) { l.sort(sortValues); },
      reverse: function (l) { l.reverse(); },
      max: function (l) { return l.slice().sort(sortValues)[l.length - 1]; },
      min: function (l) { return l.slice().sort(sortValues)[0]; },
      emptyList: function () { return []; },
      emptyMap: function () { return {}; },
    }),
    JSON: javaClass('JSON', {
      stringify: function (v) { return jsonStringify(v); },
      parse: function (s) { return jsonParse(s); },
    }),
    Date: javaClass('Date', {
      now: function () { return dateNow(); },
      parse: function (s) { return parseDate(str(s)); },
    }),
    Objects: javaClass('Objects', {
      isNull: function (v) { return v === null || v === undefined; },
      nonNull: function (v) { return v !== null && v !== undefined; },
      equals: function (a, b) { return eq(a, b); },
      toString: function (v, d) { return (v === null || v === undefined) && d !== undefined ? d : str(v); },
      requireNonNull: function (v, m) { if (v === null || v === undefined) throw fail('NullPointerException', m === undefined ? 'null' : str(m)); return v; },
    }),
    StringBuilder: javaClass('StringBuilder', {}),
  };

  g0.$tbel = {
    g: g, gn: gn, c: c, cn: cn, eq: eq, add: add, set: set, map: map, io: io, cast: cast, 'new': newObject, arr: arr, iter: iter, key: key,
    nofn: nofn, throwable: throwable, caught: caught, T: tb, J: J, c0: c0, c1: c1, c2: c2, idiv: idiv, bdiv: bdiv, jd: javaDecimal,
    /** A converter's payload: TBEL sees the bytes signed (-128..127), as Java's byte[]. */
    bytes: function (p) { return isArray(p) ? signedBytes(p) : p; },
    /** the payload the host already made signed bytes (signedPayloadArgs) */
    signedBytes: bytesOut,
  };
})();`;
