/**
 * Trusted code evaluated in every script's VM before the user's code. It installs what ThingsBoard scripts
 * expect to find (`decodeToString`, `decodeToJson`, a `console` that only records lines) and returns the
 * invoker factory: it parses the arguments, calls the user function, and turns every outcome into one
 * tagged string, so a call costs a single string in and a single string out. Every built-in it needs is
 * captured before user code runs, so a script that replaces `JSON` or `Function.prototype.apply` only breaks
 * itself. Tags: O ok (JSON follows), U undefined, E error, M memory error, N not JSON, L too large (length).
 */
/** QuickJS InternalError messages that mean the script ran out of memory or stack (class `memory`). */
export const MEMORY_ERROR_MESSAGES: readonly string[] = ['out of memory', 'stack overflow', 'string too long'];

export const PRELUDE_SOURCE = String.raw`(function () {
  'use strict';
  var g = globalThis;
  var parse = JSON.parse, stringify = JSON.stringify, reflectApply = Reflect.apply;
  var objectToString = Object.prototype.toString, fromCharCode = String.fromCharCode;
  var PromiseCtor = Promise, ErrorCtor = Error, InternalErrorCtor = InternalError, isFiniteNumber = Number.isFinite;
  var logs = [], MAX_LOGS = 100, MAX_LINE = 500;
  var memoryMessages = ${JSON.stringify(MEMORY_ERROR_MESSAGES)};

  function text(v) {
    try {
      if (typeof v === 'string') return v;
      var s = stringify(v);
      return s === undefined ? String(v) : s;
    } catch (e) {
      return '[unprintable ' + objectToString.call(v) + ']';
    }
  }
  function logger(level) {
    return function () {
      if (logs.length >= MAX_LOGS) return;
      var line = level;
      for (var i = 0; i < arguments.length; i++) line += ' ' + text(arguments[i]);
      logs[logs.length] = line.length > MAX_LINE ? line.slice(0, MAX_LINE) + '...' : line;
    };
  }
  g.console = { log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') };

  function decodeToString(payload) {
    var s = '';
    for (var i = 0; i < payload.length; i += 4096) s += reflectApply(fromCharCode, null, payload.slice(i, i + 4096));
    return s;
  }
  g.decodeToString = decodeToString;

  // atob/btoa as in browsers and Node (ThingsBoard's converter library decodes base64 payloads with them):
  // Latin-1 strings, InvalidCharacterError-like failures as plain Errors.
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  g.atob = function (input) {
    var s = String(input).replace(/[\t\n\f\r ]/g, '');
    if (s.length % 4 === 0) s = s.replace(/==?$/, '');
    if (s.length % 4 === 1 || /[^A-Za-z0-9+\/]/.test(s)) throw new ErrorCtor('atob: the string to be decoded is not correctly encoded');
    var out = '', bits = 0, n = 0;
    for (var i = 0; i < s.length; i++) {
      bits = (bits << 6) | B64.indexOf(s.charAt(i));
      n += 6;
      if (n >= 8) {
        n -= 8;
        out += fromCharCode((bits >> n) & 0xff);
      }
    }
    return out;
  };
  g.btoa = function (input) {
    var s = String(input), out = '';
    for (var i = 0; i < s.length; i += 3) {
      var a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255) throw new ErrorCtor('btoa: the string contains characters outside of the Latin1 range');
      var t = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64.charAt(t >> 18) + B64.charAt((t >> 12) & 63) + (i + 1 < s.length ? B64.charAt((t >> 6) & 63) : '=') + (i + 2 < s.length ? B64.charAt(t & 63) : '=');
    }
    return out;
  };
  g.decodeToJson = function (payload) { return parse(decodeToString(payload)); };

  // The built-in sorts compare numbers and strings in C without calling back into script, so QuickJS never polls
  // its interrupt handler during them: sorting a million-number typed array ran ~120 ms in one step, past any
  // deadline. Called without a comparator they get one that orders exactly as the built-in would (strings by
  // code units; typed arrays numerically, -0 before +0, NaN last), so every comparison is a step that can be
  // interrupted. Holes and undefined are still placed by the built-in itself.
  var defineProperty = Object.defineProperty;
  var StringCtor = String, TypeErrorCtor = TypeError;
  function toStringForSort(v) {
    if (typeof v === 'symbol') throw new TypeErrorCtor('cannot convert symbol to string');
    return StringCtor(v);
  }
  function stringOrder(a, b) {
    var x = toStringForSort(a), y = toStringForSort(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function numberOrder(a, b) {
    if (a !== a) return b !== b ? 0 : 1;
    if (b !== b) return -1;
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === 0 && b === 0) {
      var ia = 1 / a, ib = 1 / b;
      return ia < ib ? -1 : ia > ib ? 1 : 0;
    }
    return 0;
  }
  function withDefaultOrder(proto, name, order) {
    var builtin = proto[name];
    if (typeof builtin !== 'function') return;
    var wrapped = { [name]: function (comparefn) { return reflectApply(builtin, this, [comparefn === undefined ? order : comparefn]); } }[name];
    defineProperty(proto, name, { value: wrapped, writable: true, enumerable: false, configurable: true });
  }
  var typedArrayProto = Object.getPrototypeOf(Int8Array.prototype);
  withDefaultOrder(Array.prototype, 'sort', stringOrder);
  withDefaultOrder(Array.prototype, 'toSorted', stringOrder);
  withDefaultOrder(typedArrayProto, 'sort', numberOrder);
  withDefaultOrder(typedArrayProto, 'toSorted', numberOrder);

  function tagError(e) {
    if (e === null || e === undefined) return 'E' + 'threw ' + String(e);
    if (typeof e === 'object' || typeof e === 'function') {
      var name, message;
      try {
        name = String(e.name);
        message = String(e.message);
      } catch (x) {
        return 'E' + 'threw ' + objectToString.call(e);
      }
      if (e instanceof InternalErrorCtor && memoryMessages.indexOf(message) >= 0) return 'M' + message;
      if (e instanceof ErrorCtor) return 'E' + name + ': ' + message;
      return 'E' + 'threw a non-Error value: ' + text(e);
    }
    return 'E' + 'threw a non-Error value: ' + text(e);
  }

  // Bound once per script, so a call passes one string handle in and gets one string back.
  function invoker(fn, maxOut) {
    return function (argsJson) {
      var r;
      try {
        r = reflectApply(fn, undefined, parse(argsJson));
      } catch (e) {
        return tagError(e);
      }
      if (r === undefined) return 'U';
      var t = typeof r;
      if (t === 'function' || t === 'symbol' || t === 'bigint') return 'N' + 'returned a ' + t;
      if (t === 'number' && !isFiniteNumber(r)) return 'N' + 'returned ' + String(r);
      if (t === 'object' && r instanceof PromiseCtor) return 'N' + 'returned a Promise (async scripts are not supported)';
      var out;
      try {
        out = stringify(r);
      } catch (e) {
        var d = tagError(e);
        return d.charAt(0) === 'M' ? d : 'N' + d.slice(1);
      }
      if (out === undefined) return 'N' + 'returned a value JSON cannot represent';
      if (out.length > maxOut) return 'L' + out.length;
      return 'O' + out;
    };
  }
  // Console lines since the last read (at most MAX_LOGS are kept).
  function takeLogs() {
    var l = logs;
    logs = [];
    return stringify(l);
  }
  return [invoker, takeLogs];
})()`;
