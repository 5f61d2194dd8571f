import { TBEL_VALUES_SOURCE } from './tbel-runtime-values';
import { TBEL_BYTES_SOURCE } from './tbel-runtime-bytes';
import { TBEL_TEXT_SOURCE } from './tbel-runtime-text';
import { TBEL_COLLECTIONS_SOURCE } from './tbel-runtime-collections';
import { TBEL_JAVA_SOURCE } from './tbel-runtime-java';

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

/** The runtime's source: its pieces (tbel-runtime-*.ts) inside one function scope. */
export const TBEL_RUNTIME_SOURCE =
  '(function () {\n' +
  TBEL_VALUES_SOURCE +
  TBEL_BYTES_SOURCE +
  TBEL_TEXT_SOURCE +
  TBEL_COLLECTIONS_SOURCE +
  TBEL_JAVA_SOURCE +
  '})();';
