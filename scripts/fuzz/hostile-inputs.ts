import * as fc from 'fast-check';

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

/** A body built from `fields`, each present or not, each right or hostile; plus stray keys. */
function nearly(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const withHostile: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, arb] of Object.entries(fields)) withHostile[k] = fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: hostileValue });
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

/** The body of each downlink kind, nearly valid for this household. */
export function downlinkBodies(h: Household, now: number): Record<'consent' | 'campaign' | 'value' | 'conversion', fc.Arbitrary<Record<string, unknown>>> {
  const device = fc.constantFrom(...h.devices, 'nope', ...PROTOTYPE_NAMES);
  const profile = fc.constantFrom(...h.profiles, 'nope', ...PROTOTYPE_NAMES);
  const campaign = fc.constantFrom(...h.campaigns, 'nope', ...PROTOTYPE_NAMES);
  const script = fc.oneof(fc.record({ scriptFile: paths }), fc.record({ script: fc.constantFrom('return 1', 'while(true){}') }), fc.record({ scriptFile: paths, script: fc.string() }));
  return {
    consent: nearly({
      device,
      category: fc.constantFrom('usage', 'presence', 'environment', 'location', 'health', 'biometric', '*', 'nope'),
      profile,
      campaign,
      channel: fc.constantFrom('push', 'sms', 'email', 'device', 'nope'),
      granted: fc.boolean(),
      at: shiftedTime(now),
    }),
    campaign: nearly({
      id: fc.oneof(campaign, fc.string({ maxLength: 10 })),
      qualify: fc.oneof(fc.record({ event: fc.constantFrom('dispense', 'brew'), devices: fc.array(device, { maxLength: 2 }) }, { requiredKeys: ['event'] }), fc.record({ event: fc.constant('dispense'), condition: script })),
      value: fc.oneof(fc.integer({ min: -10, max: 110 }), fc.constant({ fromUpstream: true }), script),
      threshold: fc.oneof(fc.integer({ min: 0, max: 1000 }), hostileScalar),
      channels: fc.array(fc.constantFrom('push', 'sms', 'device', 'nope'), { maxLength: 3 }),
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
