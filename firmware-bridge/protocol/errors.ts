/** Why a frame was rejected; counted per device as `framesBad`, never fatal. */
export type ProtocolErrorKind = 'short' | 'version' | 'crc' | 'type' | 'cbor' | 'field' | 'cobs' | 'oversize';

export class ProtocolError extends Error {
  constructor(
    readonly kind: ProtocolErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
