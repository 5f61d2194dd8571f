import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/**
 * The synchronous link between the agent's thread and its script worker: one request, then one answer, through
 * a SharedArrayBuffer, with Atomics.wait/notify for the hand-over. No postMessage on the common path (a structured
 * clone and an event-loop turn per call); a text larger than the shared area goes through a MessagePort instead,
 * read synchronously with receiveMessageOnPort, so any size crosses without blocking on the other side's loop.
 *
 * Both directions carry one text: a JSON header line, then the payload (a call's arguments or result as JSON
 * text, or a script's source), so the payload is never escaped into another JSON string.
 */

// Atomics.waitAsync is in Node since 16; TypeScript declares it only from lib es2024, which this project does not load.
declare global {
  interface Atomics {
    waitAsync(typedArray: Int32Array, index: number, value: number, timeout?: number): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
}

/** Int32 slots of the control words at the start of the shared area. */
const REQUEST_SEQ = 0; // bumped by the agent for each request; the worker waits on it
const ANSWER_SEQ = 1; // set to the request's number by the worker when it answers; the agent waits on it
const REQUEST_LENGTH = 2; // bytes of the request in the data area, or -1: on the port
const ANSWER_LENGTH = 3;
const STATE = 4; // the worker: 0 starting, 1 serving, 2 failed to start (the reason is the answer)
const TAKEN_SEQ = 5; // set to the request's number by the worker when it takes it, after TAKEN_AT
const TAKEN_AT_BYTE = 48; // a Float64: when (ms since the epoch, performance.timeOrigin + now())
const CONTROL_BYTES = 64;
/** The data area: a call's arguments and a default-sized result fit many times over. */
export const SHARED_DATA_BYTES = 256 * 1024;

// Neither side spins before it sleeps in Atomics.wait: on a busy 2-core machine a spinning thread takes the core
// the other one needs, and a decoder call went from ~17 to ~25-45 µs (measured with 20-100 µs of spinning).

export const WORKER_STARTING = 0;
export const WORKER_SERVING = 1;
export const WORKER_FAILED = 2;

export function newSharedArea(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + SHARED_DATA_BYTES);
}

/** One end of the link. The agent's end sends requests and waits for answers; the worker's end the reverse. */
export class ChannelEnd {
  private readonly control: Int32Array;
  private readonly data: Buffer;
  private readonly takenAt: Float64Array;
  private seenRequest = 0;

  constructor(
    shared: SharedArrayBuffer,
    private readonly port: MessagePort,
  ) {
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.data = Buffer.from(shared, CONTROL_BYTES, SHARED_DATA_BYTES);
    this.takenAt = new Float64Array(shared, TAKEN_AT_BYTE, 1);
  }

  private put(text: string, lengthSlot: number): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most texts need no measuring
    const fits = text.length * 3 <= SHARED_DATA_BYTES || Buffer.byteLength(text, 'utf8') <= SHARED_DATA_BYTES;
    if (fits) {
      this.control[lengthSlot] = this.data.write(text, 0, 'utf8');
    } else {
      this.port.postMessage(text);
      this.control[lengthSlot] = -1;
    }
  }

  private take(lengthSlot: number): string {
    const length = this.control[lengthSlot];
    if (length >= 0) return this.data.toString('utf8', 0, length);
    const received = receiveMessageOnPort(this.port);
    return typeof received?.message === 'string' ? received.message : '';
  }

  // ---- the agent's end ----

  /** Sends a request; returns its number for awaitAnswer. */
  request(text: string): number {
    this.put(text, REQUEST_LENGTH);
    const seq = (this.control[REQUEST_SEQ] + 1) | 0;
    Atomics.store(this.control, REQUEST_SEQ, seq);
    Atomics.notify(this.control, REQUEST_SEQ);
    return seq;
  }

  /**
   * Blocks until the answer to request `seq` (its text), or returns null once the worker has worked on it for
   * `waitMs` — counted from when it took the request, as its own RunDeadline counts a run, so that the time the
   * worker waited for a core before it woke up is not held against the script — or has not even taken it `waitMs`
   * after it was sent (a worker that died, or never got a core).
   */
  awaitAnswer(seq: number, waitMs: number): string | null {
    let deadline = performance.now() + waitMs;
    let fromTaking = false;
    for (;;) {
      const answered = Atomics.load(this.control, ANSWER_SEQ);
      if (answered === seq) return this.take(ANSWER_LENGTH);
      const now = performance.now();
      if (now >= deadline) {
        if (fromTaking || Atomics.load(this.control, TAKEN_SEQ) !== seq) return null;
        fromTaking = true;
        deadline = this.takenAt[0] - performance.timeOrigin + waitMs; // in this thread's performance.now()
        continue;
      }
      Atomics.wait(this.control, ANSWER_SEQ, answered, deadline - now);
    }
  }

  /** The worker's state (WORKER_*); blocks up to `timeoutMs` while it is starting. */
  awaitStart(timeoutMs: number): number {
    Atomics.wait(this.control, STATE, WORKER_STARTING, timeoutMs);
    return Atomics.load(this.control, STATE);
  }

  /** Resolves with the worker's state once it has left WORKER_STARTING, without blocking the thread. */
  async started(timeoutMs: number): Promise<number> {
    const w = Atomics.waitAsync(this.control, STATE, WORKER_STARTING, timeoutMs);
    if (w.async) await w.value;
    return Atomics.load(this.control, STATE);
  }

  /** Why the worker failed to start (WORKER_FAILED). */
  startFailure(): string {
    return this.take(ANSWER_LENGTH);
  }

  // ---- the worker's end ----

  /** Tells the agent the worker serves (or failed to start, with the reason). */
  announce(state: number, reason = ''): void {
    if (state === WORKER_FAILED) this.put(reason, ANSWER_LENGTH);
    Atomics.store(this.control, STATE, state);
    Atomics.notify(this.control, STATE);
  }

  /** Blocks until the next request arrives; returns its text. */
  nextRequest(): string {
    for (;;) {
      const seq = Atomics.load(this.control, REQUEST_SEQ);
      if (seq !== this.seenRequest) {
        this.seenRequest = seq;
        this.takenAt[0] = performance.timeOrigin + performance.now();
        Atomics.store(this.control, TAKEN_SEQ, seq);
        return this.take(REQUEST_LENGTH);
      }
      Atomics.wait(this.control, REQUEST_SEQ, seq);
    }
  }

  /** Answers the request last returned by nextRequest. */
  answer(text: string): void {
    this.put(text, ANSWER_LENGTH);
    Atomics.store(this.control, ANSWER_SEQ, this.seenRequest);
    Atomics.notify(this.control, ANSWER_SEQ);
  }
}

/** A message: a JSON header line, then the payload text. */
export function frame(header: object, payload = ''): string {
  return `${JSON.stringify(header)}\n${payload}`;
}

export function unframe<H>(text: string): { header: H; payload: string } {
  const nl = text.indexOf('\n');
  return { header: JSON.parse(nl < 0 ? text : text.slice(0, nl)) as H, payload: nl < 0 ? '' : text.slice(nl + 1) };
}
