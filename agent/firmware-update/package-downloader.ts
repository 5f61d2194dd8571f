import type { MqttClient } from 'mqtt';
import { FALLBACK_FLOOR_BYTES, smallerChunkSize } from './chunk-size';
import { DownloadFailure } from './download-failure';
import type { FirmwarePackage } from './firmware-package';
import type { OtaTopics } from './ota-topics';
import type { PackageDownloadStore } from './package-download-store';
import type { VerifiedPackage } from './package-verification';

export interface PackageDownloaderOptions {
  /** the size asked for (a download already under way goes on with the size on disk when that is smaller) */
  chunkBytes: number;
  /** chunk requests in flight at once: one round trip per chunk would leave the link idle most of the time */
  window?: number;
  /** a chunk not answered within this is requested again */
  chunkTimeoutMs?: number;
  /** after this many timeouts in a row the request id is renewed (the server may have lost the session state) */
  timeoutsBeforeNewRequest?: number;
  onProgress?: (bytes: number, total: number) => void;
}

const MAX_SESSIONS_WITHOUT_ANSWER = 10;
/**
 * Connections in a row that ended with no answer at a chunk size never answered: the server is taken to refuse
 * the size without saying so (one could be an outage at the wrong moment).
 */
const SESSIONS_BEFORE_SMALLER_CHUNKS = 2;

/**
 * Chunk requests in flight. The answers' round trip, not the disk, limited the download: a broker without
 * TCP_NODELAY (Mosquitto's default) holds small request packets behind delayed ACKs (~40 ms), and with 8 in
 * flight a 1 MB package took 0.45 s on loopback; 32 keep the link busy through those stalls (0.04 s). At most
 * 32 answers (512 KiB of 16 KiB chunks) wait in memory for an earlier one; with larger chunks the store's bound on
 * unrecorded bytes (1 MiB) keeps fewer in flight (16 of 64 KiB).
 */
export const DOWNLOAD_WINDOW = 32;

/** Request ids are per MQTT session on the server; a process-wide counter keeps them unique per connection. */
let lastRequestId = 0;

/**
 * Fetches one package over an MQTT connection into the durable store (docs/firmware-updates.md §4): `window`
 * chunk requests in flight, answers written in order, lost answers requested again, and after every reconnect
 * (`attach` with the new client) the download goes on from the first chunk not on disk under a fresh request id.
 * `done` resolves with the verified package or rejects with a DownloadFailure (checksum, image, a chunk of the
 * wrong size, the server's error); outages never fail it, they only delay it.
 *
 * A server that refuses the chunk size (PAYLOAD_TOO_LARGE, an empty answer inside the package, or, for a size
 * never answered, connections closed or requests timed out without an answer) is asked again with half the size,
 * down to FALLBACK_FLOOR_BYTES (or the configured size if smaller), from the bytes already on disk: a byte offset
 * that is a whole number of chunks stays one when the size is halved. The store records the size with the
 * progress, so a restart goes on with the size that worked.
 */
export class PackageDownloader {
  private readonly outcome = settlement<VerifiedPackage>();
  readonly done = this.outcome.promise;
  private client: MqttClient | null = null;
  private requestId = 0;
  /** chunk → when it was requested, for chunks asked and not yet on disk */
  private readonly inFlight = new Map<number, number>();
  /** answers that arrived ahead of the next chunk to write */
  private readonly early = new Map<number, Buffer>();
  private timer: NodeJS.Timeout | null = null;
  private timeoutsInARow = 0;
  /** connections that ended without a single answer: a server that closes on our request must not loop forever */
  private sessionsWithoutAnswer = 0;
  /** of those, the ones that began with the chunk size in use (the count that gives a size up) */
  private silentSessionsAtSize = 0;
  /** the chunk size when this connection was attached */
  private sizeAtAttach = 0;
  private answeredThisSession = false;
  private finished = false;
  private readonly stopListening: () => void;
  private readonly window: number;
  private readonly chunkTimeoutMs: number;
  private readonly timeoutsBeforeNewRequest: number;
  /** chunk requests published, answers received, answers re-requested after a timeout, sizes given up for a smaller */
  readonly counts = { requested: 0, received: 0, rerequested: 0, smallerChunks: 0 };
  /** the sizes the server refused, in order */
  readonly refusedSizes: number[] = [];
  /** the smallest size fallen back to */
  private readonly floor: number;
  /** a chunk of the size in use has been answered (a silent server is then an outage, not a refusal) */
  private sizeAnswered: boolean;
  /** PAYLOAD_TOO_LARGE errors still to come for requests of a size already given up (errors name no request) */
  private staleRefusals = 0;
  private readonly onMessage = (topic: string, payload: Buffer): void => this.message(topic, payload);

  constructor(
    private readonly store: PackageDownloadStore,
    private readonly topics: OtaTopics,
    readonly pkg: FirmwarePackage,
    private readonly opts: PackageDownloaderOptions,
  ) {
    this.window = opts.window ?? DOWNLOAD_WINDOW;
    this.chunkTimeoutMs = opts.chunkTimeoutMs ?? 10_000;
    this.timeoutsBeforeNewRequest = opts.timeoutsBeforeNewRequest ?? 3;
    this.done.catch(() => {}); // the owner awaits it; an unobserved failure is not an unhandled rejection
    // Refused at once (budget) before anything is requested.
    const progress = store.begin(pkg, opts.chunkBytes);
    this.floor = Math.min(opts.chunkBytes, FALLBACK_FLOOR_BYTES);
    this.sizeAnswered = progress.bytes > 0;
    // Chunks held back by the bound on unrecorded bytes are asked for once the disk has caught up.
    this.stopListening = store.whenRecorded((err) => {
      if (err) this.fail(new DownloadFailure('disk', `cannot make the download durable: ${err.message}`));
      else this.fill();
    });
    if (progress.bytes === pkg.size) setImmediate(() => this.completeIfDone());
  }

  /** Uses `client` (connected) from now on: subscribes and requests from the first missing chunk. */
  attach(client: MqttClient): void {
    if (this.finished) return;
    this.detach();
    if (
      !this.sizeAnswered &&
      this.silentSessionsAtSize >= SESSIONS_BEFORE_SMALLER_CHUNKS &&
      this.canGoSmaller()
    )
      this.smallerChunks(`${this.silentSessionsAtSize} connections ended without an answer`);
    if (this.sessionsWithoutAnswer >= MAX_SESSIONS_WITHOUT_ANSWER) {
      const chunk = this.store.current()?.chunks ?? 0;
      this.fail(
        new DownloadFailure(
          'chunk',
          `the server ended ${this.sessionsWithoutAnswer} connections in a row without answering a chunk request (chunk ${chunk}, size ${this.chunkBytes()}: over its payload limit, or the package is no longer assigned?)`,
        ),
      );
      return;
    }
    this.answeredThisSession = false;
    this.sizeAtAttach = this.chunkBytes();
    this.client = client;
    client.on('message', this.onMessage);
    client.subscribe([this.topics.responseFilter, this.topics.errorTopic], { qos: 1 }, (err) => {
      if (err || this.client !== client) return;
      this.restart();
    });
    this.timer = setInterval(() => this.checkTimeouts(), Math.max(50, Math.floor(this.chunkTimeoutMs / 4)));
  }

  /** The connection is gone: forget what is in flight (the next attach asks again). */
  detach(): void {
    if (this.client && !this.answeredThisSession && this.inFlight.size > 0) {
      this.sessionsWithoutAnswer++;
      if (this.sizeAtAttach === this.chunkBytes()) this.silentSessionsAtSize++;
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.client?.removeListener('message', this.onMessage);
    this.client = null;
    this.inFlight.clear();
    this.early.clear();
    this.staleRefusals = 0; // a new connection carries no answer to this one's requests
  }

  /** The chunk size in use (the store's: lowered by a refusal, kept across restarts). */
  private chunkBytes(): number {
    return this.store.current()?.chunkBytes ?? this.opts.chunkBytes;
  }

  /** Whether a size smaller than the one in use is left to fall back to (above the floor). */
  private canGoSmaller(): boolean {
    return smallerChunkSize(this.chunkBytes(), this.floor) !== null;
  }

  /**
   * The server refused the size in use: go on with half of it from the bytes on disk (nothing written is fetched
   * again), under a new request id so that answers of the old size are not taken for chunks of the new one; at the
   * floor the download fails with the reason (the bytes stay for a retry with a smaller firmware.chunkBytes).
   * Returns whether it goes on.
   */
  private smallerChunks(why: string): boolean {
    const size = this.chunkBytes();
    const next = smallerChunkSize(size, this.floor);
    if (next === null) {
      const tried = this.refusedSizes.length > 0 ? `, after ${this.refusedSizes.join(', ')}` : '';
      this.fail(
        new DownloadFailure(
          'chunk',
          `the server refused the download: ${why} (chunk size ${size}${tried} is over the server's limit: set firmware.chunkBytes to its limit, ThingsBoard's transport.mqtt.netty.max_payload_size)`,
        ),
      );
      return false;
    }
    this.refusedSizes.push(size);
    this.counts.smallerChunks++;
    this.silentSessionsAtSize = 0;
    this.store.resize(next);
    this.sizeAnswered = false;
    if (this.client) this.restart();
    return true;
  }

  /** Stops for good (cancelled upstream); the bytes on disk are the store's to discard. */
  cancel(reason: string): void {
    this.fail(new DownloadFailure('chunk', reason));
  }

  private restart(): void {
    this.requestId = ++lastRequestId;
    this.inFlight.clear();
    this.early.clear();
    this.timeoutsInARow = 0;
    this.fill();
  }

  private fill(): void {
    const p = this.store.current();
    if (!p || !this.client || this.finished) return;
    const chunks = Math.ceil(p.pkg.size / p.chunkBytes);
    for (let n = p.chunks; n < chunks && this.inFlight.size < this.window; n++) {
      if (this.inFlight.has(n) || this.early.has(n)) continue;
      // Everything below n is on disk, in flight or waiting in memory: a power cut must not cost more than the
      // store's bound, so n waits while the disk is behind (the store calls back when it has recorded).
      if (!this.store.hasRoomFor((n + 1 - p.chunks) * p.chunkBytes)) break;
      this.request(n);
    }
  }

  private request(n: number): void {
    this.inFlight.set(n, Date.now());
    this.counts.requested++;
    this.client?.publish(this.topics.request(this.requestId, n), String(this.chunkBytes()), { qos: 1 });
  }

  private checkTimeouts(): void {
    const now = Date.now();
    let timedOut = false;
    for (const [n, at] of this.inFlight) {
      if (now - at < this.chunkTimeoutMs) continue;
      timedOut = true;
      this.counts.rerequested++;
      this.request(n);
    }
    if (!timedOut) return;
    if (++this.timeoutsInARow < this.timeoutsBeforeNewRequest) return;
    // a size never answered and requests unanswered again and again: a server (or broker) that drops what is too
    // large for it without a word
    if (!this.sizeAnswered && this.canGoSmaller())
      this.smallerChunks(`no answer to ${this.timeoutsInARow} rounds of requests`);
    else this.restart();
  }

  private message(topic: string, payload: Buffer): void {
    if (this.finished) return;
    if (topic === this.topics.errorTopic) {
      const error = payload.toString('utf8');
      if (!/PAYLOAD_TOO_LARGE/.test(error)) {
        this.fail(new DownloadFailure('chunk', `the server refused the download: ${error}`));
        return;
      }
      if (this.staleRefusals > 0) {
        this.staleRefusals--; // the refusal of another request of a size already given up
        return;
      }
      const others = this.inFlight.size - 1; // requests of the refused size whose own refusals may still come
      if (this.smallerChunks(error)) this.staleRefusals = Math.max(0, others);
      return;
    }
    const r = this.topics.parseResponse(topic);
    if (!r || r.requestId !== this.requestId) return; // an answer to an abandoned request id
    const p = this.store.current();
    if (!p || r.chunk < p.chunks || this.early.has(r.chunk)) return; // duplicate
    // nothing for a chunk inside the package: a server that will not cut it at this size (at the floor the store
    // says what is wrong: a package shorter than announced)
    if (payload.length === 0 && r.chunk * p.chunkBytes < p.pkg.size && this.canGoSmaller()) {
      this.smallerChunks(`an empty answer to chunk ${r.chunk}`);
      return;
    }
    this.sizeAnswered = true;
    this.counts.received++;
    this.timeoutsInARow = 0;
    this.answeredThisSession = true;
    this.sessionsWithoutAnswer = 0;
    this.silentSessionsAtSize = 0;
    this.inFlight.delete(r.chunk);
    this.early.set(r.chunk, payload);
    try {
      let next = this.early.get(p.chunks);
      while (next !== undefined) {
        this.early.delete(p.chunks);
        this.store.append(p.chunks, next);
        this.opts.onProgress?.(p.bytes, p.pkg.size);
        next = this.early.get(p.chunks);
      }
    } catch (err) {
      this.store.discard();
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!this.completeIfDone()) this.fill();
  }

  private completeIfDone(): boolean {
    if (this.finished || !this.store.complete()) return false;
    this.finished = true;
    this.stopListening();
    this.detach();
    this.store.finishInBackground().then(
      (v) => this.outcome.resolve(v),
      (err: unknown) => this.outcome.reject(err instanceof Error ? err : new Error(String(err))),
    );
    return true;
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.stopListening();
    this.detach();
    this.outcome.reject(err);
  }
}

/**
 * A promise and the functions that settle it (Promise.withResolvers, which Node 20 lacks). The executor runs
 * before `new Promise` returns; the check says so to the compiler instead of a definite-assignment `!`.
 */
function settlement<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let settle: { resolve: (v: T) => void; reject: (e: Error) => void } | undefined;
  const promise = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  if (settle === undefined) throw new Error('a Promise executor runs synchronously');
  return { promise, ...settle };
}
