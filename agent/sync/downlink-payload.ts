/**
 * The first gate of every downlink message (issue #21): a payload is checked whole — size, JSON, nesting depth,
 * node count, string length, prototype-bearing keys — before any part of it reaches the handler, so nothing
 * later (a consent change, the reply's JSON.stringify) can meet a value that makes it throw.
 */

/** Limits far above any real request (a campaign definition is a few hundred bytes) and far below harm. */
export const DOWNLINK_LIMITS = {
  maxBytes: 64 * 1024,
  maxDepth: 16,
  maxNodes: 4096,
  maxStringBytes: 16 * 1024,
} as const;

/** Keys that mean something to JavaScript's object model: never data, refused wherever they appear. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export type ParsedPayload = { ok: true; value: unknown } | { ok: false; error: string };

/** Parses and checks one downlink payload; never throws. */
export function parseDownlinkPayload(payload: Buffer, limits: typeof DOWNLINK_LIMITS = DOWNLINK_LIMITS): ParsedPayload {
  if (payload.length > limits.maxBytes) return { ok: false, error: `payload is larger than ${limits.maxBytes} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, error: 'payload is not JSON' };
  }
  const problem = shapeProblem(value, limits);
  return problem === null ? { ok: true, value } : { ok: false, error: problem };
}

/** Walks the value without recursion (a deep value must not overflow the stack here either). */
export function shapeProblem(value: unknown, limits: typeof DOWNLINK_LIMITS = DOWNLINK_LIMITS): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (++nodes > limits.maxNodes) return `payload has more than ${limits.maxNodes} values`;
    if (typeof v === 'string') {
      if (v.length > limits.maxStringBytes) return `a string is longer than ${limits.maxStringBytes} characters`;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limits.maxDepth) return `payload is nested deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(v)) {
      for (const x of v) stack.push({ v: x, depth: depth + 1 });
      continue;
    }
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) return `key "${k}" is not allowed`;
      if (k.length > limits.maxStringBytes) return `a key is longer than ${limits.maxStringBytes} characters`;
      stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1 });
    }
  }
  return null;
}

/**
 * What may be echoed back as a request's correlation id (`transaction`, an RPC `id`): a short string or a
 * finite number. Anything else is not echoed (the reply still goes out), so an echo can never make the reply
 * large or unencodable.
 */
export function echoable(v: unknown): string | number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v.length <= 128 ? v : undefined;
  return undefined;
}

/** An error text fit for a reply and the status document: one line, bounded. */
export function boundedText(s: string, max = 300): string {
  const line = s.replace(/[\r\n]+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
