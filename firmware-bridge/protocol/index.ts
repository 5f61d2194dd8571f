export * from './errors';
export * from './crc16';
export * from './cobs';
export { encodeBody, decodeBody, type CborMap, type CborValue } from './cbor-body';
export * from './frames';
export * from './frame-codec';
export * from './frame-decoder';
