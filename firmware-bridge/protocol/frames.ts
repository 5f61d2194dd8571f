import type { CborMap, CborValue } from './cbor-body';
import { ProtocolError } from './errors';

export const CATEGORIES = ['environment', 'presence', 'usage', 'location', 'health', 'biometric'] as const;
export type Category = (typeof CATEGORIES)[number];
/** GDPR Art. 9 special categories: a wildcard consent never covers them. */
export const SPECIAL_CATEGORIES: readonly Category[] = ['health', 'biometric'];

export interface ChannelInfo {
  n: number;
  k: string;
  c: Category;
}

export interface Reading {
  ch: number;
  v: number;
  t?: number;
}

export type CommandName = 'pause' | 'resume' | 'identify' | 'notify' | 'reboot' | 'update';
export const COMMANDS: readonly CommandName[] = ['pause', 'resume', 'identify', 'notify', 'reboot', 'update'];

/**
 * What a device's hello may declare in `cap` that the gateway acts on: `update` = it understands the
 * `{"c": "update", "v": …}` command (a firmware update is pending). Older firmware knows no `c` beyond the first
 * five and rejects the frame, so the gateway sends it only to firmware that says so (PROTOCOL.md §4).
 */
export const CAP_UPDATE = 'update';

/** The household's say on a pending firmware update from the device's own button (0x06, PROTOCOL.md §4). */
export type FirmwareChoice = 'defer' | 'never' | 'allow';
export const FIRMWARE_CHOICES: readonly FirmwareChoice[] = ['defer', 'never', 'allow'];
/** `defer` without `h` */
export const FIRMWARE_DEFER_DEFAULT_HOURS = 24;
/** Longest deferral at once: a month (an indefinite one is `never`); the panel and the CLI have the same bound. */
export const FIRMWARE_DEFER_MAX_HOURS = 24 * 31;

export interface HelloBody {
  id: string;
  fw: string;
  model: string;
  ch: ChannelInfo[];
  /** capabilities beyond protocol v1's first version (CAP_UPDATE); absent = none */
  cap?: string[];
}

export type DeviceFrame =
  | { type: 'hello'; seq: number; body: HelloBody }
  | { type: 'reading'; seq: number; body: { readings: Reading[] } }
  | { type: 'event'; seq: number; body: { e: string; ch?: number; v?: number; t?: number } }
  | { type: 'consent'; seq: number; body: { s: string; g: boolean } }
  | { type: 'heartbeat'; seq: number; body: { up: number; rssi?: number } }
  | { type: 'firmware-choice'; seq: number; body: { d: FirmwareChoice; h?: number } }
  | { type: 'ack'; seq: number; body: { a: number } };

export type GatewayFrame =
  | { type: 'ack'; seq: number; body: { a: number } }
  | { type: 'command'; seq: number; body: { c: CommandName; [k: string]: unknown } }
  | { type: 'consent-state'; seq: number; body: { cats: Partial<Record<Category, boolean>> } };

export type Frame = DeviceFrame | GatewayFrame;
export type FrameTypeName = Frame['type'];

export const FRAME_TYPES = {
  hello: 0x01,
  reading: 0x02,
  event: 0x03,
  consent: 0x04,
  heartbeat: 0x05,
  'firmware-choice': 0x06,
  ack: 0x81,
  command: 0x82,
  'consent-state': 0x83,
} as const;

export const TYPE_BY_CODE: ReadonlyMap<number, FrameTypeName> = new Map(
  Object.entries(FRAME_TYPES).map(([name, code]) => [code, name as FrameTypeName]),
);

/** Types only the gateway sends; a device sending one is a protocol error. */
export const GATEWAY_ONLY: ReadonlySet<FrameTypeName> = new Set(['command', 'consent-state']);

// ---- field validation: extra keys are tolerated (forward compatibility), missing or mistyped ones are not ----

const bad = (msg: string): ProtocolError => new ProtocolError('field', msg);

function req(m: CborMap, key: string, what: string): CborValue {
  const v = m.get(key);
  if (v === undefined) throw bad(`${what}: missing "${key}"`);
  return v;
}
const isUint = (v: CborValue | undefined): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNum = (v: CborValue | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function uint(m: CborMap, key: string, what: string): number {
  const v = req(m, key, what);
  if (!isUint(v)) throw bad(`${what}: "${key}" must be an unsigned integer`);
  return v;
}
function optUint(m: CborMap, key: string, what: string): number | undefined {
  const v = m.get(key);
  if (v === undefined) return undefined;
  if (!isUint(v)) throw bad(`${what}: "${key}" must be an unsigned integer`);
  return v;
}
function num(m: CborMap, key: string, what: string): number {
  const v = req(m, key, what);
  if (!isNum(v)) throw bad(`${what}: "${key}" must be a finite number`);
  return v;
}
function optNum(m: CborMap, key: string, what: string): number | undefined {
  const v = m.get(key);
  if (v === undefined) return undefined;
  if (!isNum(v)) throw bad(`${what}: "${key}" must be a finite number`);
  return v;
}
function text(m: CborMap, key: string, what: string, nonEmpty = true): string {
  const v = req(m, key, what);
  if (typeof v !== 'string' || (nonEmpty && v.length === 0)) throw bad(`${what}: "${key}" must be ${nonEmpty ? 'non-empty ' : ''}text`);
  return v;
}
function category(v: CborValue | undefined, what: string): Category {
  if (typeof v !== 'string' || !(CATEGORIES as readonly string[]).includes(v)) {
    throw bad(`${what}: unknown category ${JSON.stringify(v)}`);
  }
  return v as Category;
}

function reading(v: CborValue, what: string): Reading {
  if (!Array.isArray(v) || v.length < 2 || v.length > 3) throw bad(`${what}: each entry of "r" must be [ch, v] or [ch, v, t]`);
  const [ch, val, t] = v;
  if (!isUint(ch)) throw bad(`${what}: channel must be an unsigned integer`);
  if (!isNum(val)) throw bad(`${what}: value must be a finite number`);
  if (t !== undefined && !isUint(t)) throw bad(`${what}: t must be an unsigned integer`);
  return t === undefined ? { ch, v: val } : { ch, v: val, t };
}

/** Validates a decoded body for its frame type and returns the typed frame. */
export function frameFromBody(type: FrameTypeName, seq: number, m: CborMap): Frame {
  switch (type) {
    case 'hello': {
      const ch = req(m, 'ch', 'hello');
      if (!Array.isArray(ch)) throw bad('hello: "ch" must be an array');
      const channels = ch.map((c, i): ChannelInfo => {
        if (!(c instanceof Map)) throw bad(`hello: ch[${i}] must be a map`);
        return { n: uint(c, 'n', `hello ch[${i}]`), k: text(c, 'k', `hello ch[${i}]`), c: category(c.get('c'), `hello ch[${i}]`) };
      });
      const body: HelloBody = { id: text(m, 'id', 'hello'), fw: text(m, 'fw', 'hello', false), model: text(m, 'model', 'hello', false), ch: channels };
      const cap = m.get('cap');
      if (cap !== undefined) {
        if (!Array.isArray(cap) || cap.some((c) => typeof c !== 'string' || c.length === 0)) throw bad('hello: "cap" must be an array of non-empty texts');
        body.cap = cap as string[];
      }
      return { type, seq, body };
    }
    case 'reading': {
      const r = m.get('r');
      if (r !== undefined) {
        if (!Array.isArray(r) || r.length === 0) throw bad('reading: "r" must be a non-empty array');
        return { type, seq, body: { readings: r.map((x) => reading(x, 'reading')) } };
      }
      const t = optUint(m, 't', 'reading');
      const one: Reading = { ch: uint(m, 'ch', 'reading'), v: num(m, 'v', 'reading') };
      if (t !== undefined) one.t = t;
      return { type, seq, body: { readings: [one] } };
    }
    case 'event': {
      const body: { e: string; ch?: number; v?: number; t?: number } = { e: text(m, 'e', 'event') };
      const ch = optUint(m, 'ch', 'event');
      const v = optNum(m, 'v', 'event');
      const t = optUint(m, 't', 'event');
      if (ch !== undefined) body.ch = ch;
      if (v !== undefined) body.v = v;
      if (t !== undefined) body.t = t;
      return { type, seq, body };
    }
    case 'consent': {
      const s = text(m, 's', 'consent');
      if (s !== 'device') category(s, 'consent');
      const g = req(m, 'g', 'consent');
      if (typeof g !== 'boolean') throw bad('consent: "g" must be a boolean');
      return { type, seq, body: { s, g } };
    }
    case 'heartbeat': {
      const body: { up: number; rssi?: number } = { up: uint(m, 'up', 'heartbeat') };
      const rssi = m.get('rssi');
      if (rssi !== undefined) {
        if (typeof rssi !== 'number' || !Number.isInteger(rssi)) throw bad('heartbeat: "rssi" must be an integer');
        body.rssi = rssi;
      }
      return { type, seq, body };
    }
    case 'firmware-choice': {
      const d = text(m, 'd', 'firmware-choice');
      if (!(FIRMWARE_CHOICES as readonly string[]).includes(d)) throw bad(`firmware-choice: "d" must be "defer", "never" or "allow", not "${d}"`);
      const h = optUint(m, 'h', 'firmware-choice');
      if (h === undefined) return { type, seq, body: { d: d as FirmwareChoice } };
      if (d !== 'defer') throw bad('firmware-choice: "h" goes only with "defer"');
      if (h < 1 || h > FIRMWARE_DEFER_MAX_HOURS) throw bad(`firmware-choice: "h" must be 1 to ${FIRMWARE_DEFER_MAX_HOURS} hours`);
      return { type, seq, body: { d: 'defer', h } };
    }
    case 'ack':
      return { type, seq, body: { a: uint(m, 'a', 'ack') } };
    case 'command': {
      const c = text(m, 'c', 'command');
      if (!(COMMANDS as readonly string[]).includes(c)) throw bad(`command: unknown command "${c}"`);
      if (c === 'update') text(m, 'v', 'command update');
      const body: { c: CommandName; [k: string]: unknown } = { c: c as CommandName };
      for (const [k, v] of m) if (k !== 'c') body[k] = v instanceof Map ? Object.fromEntries(v) : v;
      return { type, seq, body };
    }
    case 'consent-state': {
      const cats = req(m, 'cats', 'consent-state');
      if (!(cats instanceof Map)) throw bad('consent-state: "cats" must be a map');
      const out: Partial<Record<Category, boolean>> = {};
      for (const [k, v] of cats) {
        const c = category(k, 'consent-state');
        if (typeof v !== 'boolean') throw bad(`consent-state: "${k}" must be a boolean`);
        out[c] = v;
      }
      return { type, seq, body: { cats: out } };
    }
  }
}

/** The CBOR body a frame is encoded with (single readings as {ch,v[,t]}, several as {r:[…]}). */
export function bodyOf(frame: Frame): object {
  if (frame.type === 'reading') {
    const rs = frame.body.readings;
    if (rs.length === 1) {
      const r = rs[0];
      return r.t === undefined ? { ch: r.ch, v: r.v } : { ch: r.ch, v: r.v, t: r.t };
    }
    return { r: rs.map((r) => (r.t === undefined ? [r.ch, r.v] : [r.ch, r.v, r.t])) };
  }
  return frame.body;
}
