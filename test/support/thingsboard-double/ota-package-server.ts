import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';

/** A package as the server keeps it (OtaPackage): bytes plus what DefaultOtaPackageStateService announces. */
export interface OtaPackage {
  title: string;
  version: string;
  tag?: string;
  checksumAlgorithm: 'SHA256' | 'SHA384' | 'SHA512' | 'MD5' | 'CRC32' | 'MURMUR3_32';
  data: Buffer;
}

/** What the server answers to one chunk request: bytes on the response topic, or an error (ThingsBoard: then close). */
export type ChunkAnswer =
  | { kind: 'chunk'; topic: string; data: Buffer }
  | { kind: 'error'; topic: string; error: string }
  /** the connection closed without a word (a server that says nothing of why) */
  | { kind: 'close' }
  | { kind: 'none' };

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The checksum text ThingsBoard stores for a package (lower-case hex; CRC32 as Long.toHexString). */
export function otaChecksum(p: Pick<OtaPackage, 'checksumAlgorithm' | 'data'>): string {
  switch (p.checksumAlgorithm) {
    case 'CRC32':
      return (zlib.crc32(p.data) >>> 0).toString(16);
    case 'MURMUR3_32':
      return '0'; // the agent refuses MURMUR3 before looking at the value
    default:
      return createHash(p.checksumAlgorithm.toLowerCase()).update(p.data).digest('hex');
  }
}

/**
 * The firmware side of ThingsBoard's MQTT transport for the gateway's own session
 * (MqttTransportHandler.getOtaPackageCallback / sendOtaPackage, CaffeineOtaPackageCache.get): chunk requests on
 * `v2/fw/request/{requestId}/chunk/{n}` with the chunk size as text (empty: the size last given for the request
 * id, 0: whole file), answered on `v2/fw/response/{requestId}/chunk/{n}` with the bytes, empty past the end. The
 * request id → chunk size and request id → package maps live per session. A size over the transport's max payload
 * size, or a request with no package assigned, is answered on `v2/fw/error` and the connection is closed.
 */
export class OtaPackageServer {
  pkg: OtaPackage | null = null;
  /** called for each request that gets past the size check, before it is answered (tests cut the broker here) */
  onRequest: (chunk: number) => void = () => {};
  /** chunks not answered the first time they are asked for (a lost response) */
  readonly dropOnce = new Set<number>();
  /** chunks from this index on are not answered at all (a server that stalls mid-download); null: all are */
  stallFrom: number | null = null;
  readonly requests: Array<{ requestId: string; chunk: number; size: number }> = [];
  /**
   * How a size over the limit is refused: ThingsBoard's error (then its transport closes the session), or, for
   * other platforms and brokers that drop what is too large for them, an empty answer, none at all, or the
   * connection closed without the error
   */
  refusal: 'error' | 'empty' | 'silence' | 'close' = 'error';
  bytesServed = 0;
  private chunkSizes = new Map<string, number>();
  private sessions = new Map<string, OtaPackage>();

  private readonly topicRe: RegExp;

  /**
   * `prefix` is where the scheme lives: `v2/fw` (ThingsBoard), or `<base>/<gatewayId>/firmware` (the generic
   * profile), where a `+` level matches any one level (one platform serving every gateway); answers go under
   * the prefix the request came on.
   */
  constructor(
    /** transport.mqtt.netty.max_payload_size: a larger chunk size is refused (a server reconfigured: tests set it) */
    public maxPayloadSize = 65536,
    readonly prefix = 'v2/fw',
  ) {
    const levels = prefix.split('/').map((l) => (l === '+' ? '[^/]+' : escapeRe(l)));
    this.topicRe = new RegExp(`^(${levels.join('/')})/request/([^/]+)/chunk/([^/]+)$`);
  }

  /** The subscription filter for the requests. */
  get requestFilter(): string {
    return `${this.prefix}/request/+/chunk/+`;
  }

  /** A new MQTT session: nothing of the last one's request ids is known. */
  newSession(): void {
    this.chunkSizes = new Map();
    this.sessions = new Map();
  }

  /** null when the topic is not a firmware chunk request; throws (NumberFormatException) on a bad number. */
  request(topic: string, payload: string, parseInt: (s: string) => number): ChunkAnswer | null {
    const m = this.topicRe.exec(topic);
    if (!m) return null;
    const [, at, requestId] = m;
    const chunk = parseInt(m[3]);
    const key = `${at}\u0000${requestId}`; // request ids are per device (session): one platform serves many
    let size = payload !== '' ? parseInt(payload) : 0;
    if (size > 0) this.chunkSizes.set(key, size);
    else size = this.chunkSizes.get(key) ?? 0;
    this.requests.push({ requestId, chunk, size });
    if (size > this.maxPayloadSize) {
      if (this.refusal === 'silence') return { kind: 'none' };
      if (this.refusal === 'close') return { kind: 'close' };
      if (this.refusal === 'empty') return { kind: 'chunk', topic: `${at}/response/${requestId}/chunk/${chunk}`, data: Buffer.alloc(0) };
      return { kind: 'error', topic: `${at}/error`, error: 'PAYLOAD_TOO_LARGE' };
    }
    let pkg = this.sessions.get(key);
    if (!pkg) {
      if (!this.pkg) return { kind: 'error', topic: `${at}/error`, error: 'NOT_FOUND' };
      pkg = this.pkg;
      this.sessions.set(key, pkg); // a request id keeps the package it started with, as on the server
    }
    this.onRequest(chunk);
    if (this.dropOnce.delete(chunk)) return { kind: 'none' };
    if (this.stallFrom !== null && chunk >= this.stallFrom) return { kind: 'none' };
    let data: Buffer;
    if (size < 1) data = pkg.data;
    else {
      const start = size * chunk;
      data =
        start < pkg.data.length
          ? pkg.data.subarray(start, Math.min(pkg.data.length, start + size))
          : Buffer.alloc(0);
    }
    this.bytesServed += data.length;
    return { kind: 'chunk', topic: `${at}/response/${requestId}/chunk/${chunk}`, data };
  }
}
