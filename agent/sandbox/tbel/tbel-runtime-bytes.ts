/**
 * TbUtils in the TBEL runtime, first part: bytes and numbers (parsing, signed bytes, byte order, integers and floats from bytes). One piece of the TBEL runtime's source: tbel-runtime.ts joins the pieces in one function scope (each
 * sees the others' functions). It runs in the QuickJS sandbox, never in the agent.
 */
export const TBEL_BYTES_SOURCE = String.raw`  // ---- bytes, text, numbers (TbUtils) ----
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
`;
