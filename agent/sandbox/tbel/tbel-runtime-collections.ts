/**
 * TBEL's lists and maps with their Java methods, and TBEL's Date. One piece of the TBEL runtime's source: tbel-runtime.ts joins the pieces in one function scope (each
 * sees the others' functions). It runs in the QuickJS sandbox, never in the agent.
 */
export const TBEL_COLLECTIONS_SOURCE = String.raw`  // ---- collections ----
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

`;
