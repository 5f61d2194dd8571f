/**
 * Method dispatch, the java.util.Formatter subset (String.format) and the Java classes a script may name; installs globalThis.$tbel. One piece of the TBEL runtime's source: tbel-runtime.ts joins the pieces in one function scope (each
 * sees the others' functions). It runs in the QuickJS sandbox, never in the agent.
 */
export const TBEL_JAVA_SOURCE = String.raw`  // ---- method dispatch ----
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
`;
