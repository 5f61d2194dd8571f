/**
 * TbUtils in the TBEL runtime, second part: hex, base64, text and the rest of the helper library. One piece of the TBEL runtime's source: tbel-runtime.ts joins the pieces in one function scope (each
 * sees the others' functions). It runs in the QuickJS sandbox, never in the agent.
 */
export const TBEL_TEXT_SOURCE = String.raw`  var HEX = '0123456789ABCDEF';
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

`;
