import * as fc from 'fast-check';
import { CHANNELS } from '../../agent/engagement';
import { SIM_KINDS } from '../../drivers/sim/device-catalog';
import { CATEGORIES, FRAME_TYPES, cobsEncode, crc16, encodeBody } from '../../firmware-bridge/protocol';

/**
 * Structure-aware hostile inputs for the agent's outside interfaces (issue #21): what an attacker controlling the
 * upstream broker, a LAN host or a browser page would send. Each generator mixes nearly-valid requests (so the
 * deeper checks are reached) with the shapes that broke the agent before: deep nesting, prototype-bearing keys,
 * built-in method names, huge strings, wrong types, file paths, timestamps shifted into the future.
 */

/** Object keys JavaScript treats specially, and names found on Object.prototype. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];

/** JSON text nested `depth` deep (built as text: our own JSON.stringify must not be the one to overflow). */
export const deepJson = (depth: number, open = '[', close = ']'): string => `${open.repeat(depth)}${close.repeat(depth)}`;

const hugeString = fc.integer({ min: 10_000, max: 300_000 }).map((n) => 'x'.repeat(n));
const paths = fc.constantFrom('/dev/zero', '/etc/passwd', '/etc/shadow', '../../../../etc/passwd', '/proc/self/environ', 'C:\\Windows\\win.ini', '/nonexistent/x.js', '\u0000');

/** A JSON value of the wrong kind, or a hostile one of the right kind. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, '', ' ', 'NaN', '1e999', '-0', '[]', '{}'),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(...PROTOTYPE_NAMES),
  paths,
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileScalar },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...PROTOTYPE_NAMES, 'a', 'scriptFile', 'script'), hostileScalar, { maxKeys: 3 }) },
);

/**
 * A body built from `fields`, each present or not, each right (`rightWeight` times in `rightWeight` + 1) or
 * hostile; plus stray keys.
 */
function nearly(fields: Record<string, fc.Arbitrary<unknown>>, rightWeight = 4): fc.Arbitrary<Record<string, unknown>> {
  const withHostile: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, arb] of Object.entries(fields)) withHostile[k] = fc.oneof({ weight: rightWeight, arbitrary: arb }, { weight: 1, arbitrary: hostileValue });
  return fc
    .tuple(fc.record(withHostile, { requiredKeys: [] }), fc.dictionary(fc.constantFrom(...PROTOTYPE_NAMES, 'extra', 'transaction'), hostileValue, { maxKeys: 2 }))
    .map(([body, stray]) => ({ ...body, ...stray }));
}

/** `at` values: now-ish, the past, just inside and well past the clock-skew bound, nonsense. */
export const shiftedTime = (now: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.integer({ min: -86_400_000, max: 0 }).map((d) => now + d),
    fc.integer({ min: 0, max: 10 * 60_000 }).map((d) => now + d),
    fc.integer({ min: 10 * 60_000, max: 10 * 365 * 86_400_000 }).map((d) => now + d),
    fc.integer({ min: -600_000, max: 600_000 }).map((d) => new Date(now + d).toISOString()),
    hostileScalar,
  );

export interface Household {
  devices: readonly string[];
  profiles: readonly string[];
  campaigns: readonly string[];
}

/** The fuzzed household: the devices, profiles and campaigns of test/sync/household.ts. */
export const HOUSEHOLD: Household = { devices: ['scale-a', 'scale-b'], profiles: ['home-a', 'home-b'], campaigns: ['coffee', 'tea'] };

/** The body of each downlink kind, nearly valid for this household. */
export function downlinkBodies(h: Household, now: number): Record<'consent' | 'campaign' | 'value' | 'conversion', fc.Arbitrary<Record<string, unknown>>> {
  const device = fc.constantFrom(...h.devices, 'nope', ...PROTOTYPE_NAMES);
  const profile = fc.constantFrom(...h.profiles, 'nope', ...PROTOTYPE_NAMES);
  const campaign = fc.constantFrom(...h.campaigns, 'nope', ...PROTOTYPE_NAMES);
  const script = fc.oneof(fc.record({ scriptFile: paths }), fc.record({ script: fc.constantFrom('return 1', 'while(true){}') }), fc.record({ scriptFile: paths, script: fc.string() }));
  return {
    consent: nearly({
      device,
      category: fc.constantFrom(...CATEGORIES, '*', 'nope'),
      profile,
      campaign,
      channel: fc.constantFrom(...CHANNELS, 'nope'),
      granted: fc.boolean(),
      at: shiftedTime(now),
    }),
    campaign: nearly({
      id: fc.oneof(campaign, fc.string({ maxLength: 10 })),
      qualify: fc.oneof(fc.record({ event: fc.constantFrom('dispense', 'brew'), devices: fc.array(device, { maxLength: 2 }) }, { requiredKeys: ['event'] }), fc.record({ event: fc.constant('dispense'), condition: script })),
      value: fc.oneof(fc.integer({ min: -10, max: 110 }), fc.constant({ fromUpstream: true }), script),
      threshold: fc.oneof(fc.integer({ min: 0, max: 1000 }), hostileScalar),
      channels: fc.array(fc.constantFrom(...CHANNELS, 'nope'), { maxLength: 3 }),
      cooldown: fc.constantFrom('7d', '1h', 'soon', 5),
    }),
    value: nearly({ profile, campaign, v: fc.oneof(fc.double({ min: -10, max: 110 }), fc.constant(Number.NaN)) }),
    conversion: nearly({ trigger: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...PROTOTYPE_NAMES)), at: shiftedTime(now), profile }),
  };
}

/** One downlink payload as bytes: a (nearly) valid body, hostile text, deep nesting, huge strings, raw bytes. */
export function payloadOf(body: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 12, arbitrary: body.map((b) => Buffer.from(JSON.stringify(b) ?? 'null')) },
    { weight: 1, arbitrary: fc.json().map((s) => Buffer.from(s)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 10, max: 300_000 }), fc.boolean()).map(([d, obj]) => Buffer.from(obj ? `{"transaction":${deepJson(d, '{"a":', '}').replace(/\{"a":\}/, '1')}}` : `{"transaction":${deepJson(d)}}`)) },
    { weight: 1, arbitrary: hugeString.map((s) => Buffer.from(JSON.stringify({ device: 'scale-a', category: 'usage', granted: true, pad: s }))) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES).map((k) => Buffer.from(`{"${k}":{"granted":true},"device":"scale-a","category":"usage","granted":false}`)) },
  );
}

/** Category names a device may declare or name in a consent frame, right and wrong. */
const CATEGORY_NAMES = [...CATEGORIES, '*', 'device', 'nope', ...PROTOTYPE_NAMES];

/** Frame fields: present and right far more often than in a downlink, or almost every frame would be refused. */
const nearlyFrame = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof({ weight: 3, arbitrary: fc.record(fields) }, { weight: 1, arbitrary: nearly(fields, 30) });

/** A frame body (before CBOR): nearly right for its type, with hostile fields and stray keys. */
function frameBody(type: keyof typeof FRAME_TYPES, ids: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const channel = nearlyFrame({
    n: fc.oneof(fc.constantFrom(1, 2), fc.nat(300)),
    k: fc.constantFrom('weight', 'event', 'temp', ...PROTOTYPE_NAMES),
    c: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('usage', 'health', 'presence') }, { weight: 1, arbitrary: fc.constantFrom(...CATEGORY_NAMES) }),
  });
  const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e308, -1e308));
  switch (type) {
    case 'hello':
      return nearlyFrame({
        id: fc.oneof(fc.constantFrom(...ids, 'ghost', ...PROTOTYPE_NAMES), fc.string({ maxLength: 300 })),
        fw: fc.oneof(fc.constantFrom('1.0', '9.9.9'), fc.string({ maxLength: 300 })),
        model: fc.constantFrom(...SIM_KINDS, 'nope', ...PROTOTYPE_NAMES),
        ch: fc.array(channel, { maxLength: 12 }),
      });
    case 'reading':
      return nearlyFrame({ readings: fc.array(nearlyFrame({ ch: fc.oneof(fc.constantFrom(1, 2), fc.nat(300)), v: value }), { minLength: 1, maxLength: 8 }) });
    case 'event':
      return nearlyFrame({
        e: fc.oneof(fc.constantFrom('dispense', 'brew', 'reorder', ...PROTOTYPE_NAMES), fc.string({ maxLength: 300 })),
        ch: fc.oneof(fc.constantFrom(1, 2), fc.nat(300)),
        v: value,
        t: fc.nat(),
      });
    case 'consent':
      return nearlyFrame({ s: fc.constantFrom(...CATEGORY_NAMES), g: fc.boolean() });
    case 'heartbeat':
      return nearlyFrame({ up: fc.nat(), rssi: fc.integer({ min: -120, max: 0 }) });
    case 'firmware-choice':
      return nearlyFrame({ d: fc.constantFrom('defer', 'never', 'allow', 'later'), h: fc.oneof(fc.nat(800), fc.double()) });
    case 'ack':
      return nearlyFrame({ a: fc.nat(0xffff) });
    case 'command':
      return nearlyFrame({ c: fc.constantFrom('pause', 'reboot', 'update', 'nope') });
    case 'consent-state':
      return nearlyFrame({ cats: fc.dictionary(fc.constantFrom(...CATEGORY_NAMES), fc.boolean(), { maxKeys: 4 }) });
  }
}

/** A body as CBOR; a value CBOR cannot carry (the generator's odd objects) becomes an empty map. */
function cbor(body: object): Uint8Array {
  try {
    return encodeBody(body);
  } catch {
    return encodeBody({});
  }
}

/** version | type | seq u16le | body | CRC-16 u16le (DESIGN §5), then COBS and the 0x00 delimiter. */
function wireFrame(version: number, type: number, seq: number, body: Uint8Array, crcOk: boolean): Buffer {
  const raw = new Uint8Array(4 + body.length + 2);
  raw.set([version, type, seq & 0xff, (seq >> 8) & 0xff]);
  raw.set(body, 4);
  const crc = crc16(raw, 0, 4 + body.length) ^ (crcOk ? 0 : 0x5a5a);
  raw[4 + body.length] = crc & 0xff;
  raw[5 + body.length] = crc >> 8;
  return Buffer.concat([cobsEncode(raw), Buffer.of(0)]);
}

/**
 * Bytes a device (or line noise) sends on its link, as the serial driver receives them: frames of every type,
 * gateway-only ones included, with nearly-right hostile bodies (wrong hello ids, special categories, dozens of
 * channels, prototype names, huge values) encoded as real CBOR; now and then a bad version, type or CRC, a body
 * that is not a map, random bytes, or a frame cut short. Consent frames (the device's button) only with
 * `consentFrames`: a link whose device should keep its consent for the whole campaign gets none.
 */
export function deviceWireBytes(ids: readonly string[], consentFrames: boolean): fc.Arbitrary<Buffer> {
  const types = (Object.keys(FRAME_TYPES) as Array<keyof typeof FRAME_TYPES>).filter((t) => consentFrames || t !== 'consent');
  const typeWeight = (t: keyof typeof FRAME_TYPES): number => (t === 'reading' || t === 'event' ? 6 : t === 'hello' ? 2 : 1);
  const typed = fc.oneof(...types.map((t) => ({ weight: typeWeight(t), arbitrary: fc.constant(t) }))).chain((type) =>
    fc.record({
      type: fc.constant(type),
      seq: fc.oneof(fc.nat(64), fc.nat(0xffff)),
      body: frameBody(type, ids),
      version: fc.oneof({ weight: 20, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.nat(255) }),
      crcOk: fc.oneof({ weight: 20, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
  );
  return fc.oneof(
    { weight: 20, arbitrary: typed.map((f) => wireFrame(f.version, FRAME_TYPES[f.type], f.seq, cbor(f.body), f.crcOk)) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(255), fc.nat(0xffff), hostileValue).map(([type, seq, v]) => wireFrame(1, type, seq, cbor({ v }), true)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(1, 2, 3, 4), fc.uint8Array({ maxLength: 300 })).map(([type, b]) => wireFrame(1, type, 1, b, true)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: typed.map((f) => wireFrame(1, FRAME_TYPES[f.type], f.seq, cbor(f.body), true).subarray(0, 5)) },
  );
}
