import { ConfigError, parseCampaignDefinition, parseConfig } from '../../agent/config';
import { outcomeRule } from '../../agent/outcomes';

const DAY = 86_400_000;
const doc = (campaignExtra: string, top = ''): string => `gateway: { id: gw-1 }
devices:
  - { id: scale-1, transport: sim, model: kitchen-scale, profile: home-a }
  - { id: presence-1, transport: sim, model: presence, profile: home-a }
campaigns:
  - { id: c1, qualify: { event: dispense }, value: 72, threshold: 30, channels: [push, device]${campaignExtra} }
${top}`;

function issues(text: string): string[] {
  try {
    parseConfig(text, { sourceName: 'config.yaml', baseDir: '/tmp', env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('campaign outcome config: conversion, dwell, notify, outcomes', () => {
  it('normal form, with durations in ms', () => {
    const { config } = parseConfig(
      doc(
        ', conversion: { events: [reorder, dispense], attributionWindow: 3d }, dwell: { within: 15m, cap: 2h, devices: [presence-1] }, notify: { text: "Refill {campaign}", led: amber, buzz: true }',
        'outcomes: { signalInterval: 30m, sampleInterval: 1m, maxSamplesPerKey: 500, retentionDays: 90, delivery: { ackTimeout: 800ms, attempts: 5 } }\n',
      ),
      { sourceName: 'c.yaml', baseDir: '/tmp', env: {} },
    );
    expect(config.campaigns[0]).toMatchObject({
      conversion: { events: ['reorder', 'dispense'], attributionWindowMs: 3 * DAY },
      dwell: { withinMs: 15 * 60_000, capMs: 2 * 3_600_000, devices: ['presence-1'] },
      notify: { text: 'Refill {campaign}', led: 'amber', buzz: true },
    });
    expect(config.outcomes).toEqual({
      signalIntervalS: 1800,
      sampleIntervalS: 60,
      maxSamplesPerKey: 500,
      retentionDays: 90,
      deliveryAckTimeoutMs: 800,
      deliveryAttempts: 5,
    });
  });

  it('defaults when left out', () => {
    const { config } = parseConfig(doc(''), { sourceName: 'c.yaml', baseDir: '/tmp', env: {} });
    expect(config.outcomes).toEqual({
      signalIntervalS: 3600,
      sampleIntervalS: 300,
      maxSamplesPerKey: 2000,
      retentionDays: 400,
      deliveryAckTimeoutMs: 1500,
      deliveryAttempts: 3,
    });
    expect(outcomeRule(config.campaigns[0])).toEqual({
      campaign: 'c1',
      conversionEvents: ['reorder'],
      attributionWindowMs: 7 * DAY,
      dwellWithinMs: 30 * 60_000,
      dwellCapMs: 4 * 3_600_000,
      dwellDevices: null,
      notify: { text: '{campaign}', led: 'green' },
    });
    const partial = parseConfig(doc(', conversion: { attributionWindow: 2d }'), {
      sourceName: 'c.yaml',
      baseDir: '/tmp',
      env: {},
    }).config;
    expect(partial.campaigns[0].conversion).toEqual({ events: ['reorder'], attributionWindowMs: 2 * DAY });
  });

  it.each([
    [
      'a bad window',
      ', conversion: { attributionWindow: soon }',
      /^campaigns\[0\]\.conversion\.attributionWindow: invalid duration "soon"/,
    ],
    [
      'a zero window',
      ', conversion: { attributionWindow: 0s }',
      /^campaigns\[0\]\.conversion\.attributionWindow: invalid duration "0s".*more than 0/,
    ],
    ['no events', ', conversion: { events: [] }', /^campaigns\[0\]\.conversion\.events: /],
    ['a typo', ', conversion: { event: [reorder] }', /^campaigns\[0\]\.conversion/],
    ['a bad cap', ', dwell: { cap: forever }', /^campaigns\[0\]\.dwell\.cap: invalid duration "forever"/],
    [
      'an unknown dwell device',
      ', dwell: { devices: [door-9] }',
      /^campaigns\[0\]\.dwell\.devices\[0\]: unknown device "door-9"/,
    ],
    ['notify text too long', `, notify: { text: "${'x'.repeat(65)}" }`, /^campaigns\[0\]\.notify\.text: /],
    ['a bad LED colour', ', notify: { led: "Bright Red" }', /^campaigns\[0\]\.notify\.led: /],
    ['an empty notify', ', notify: {}', /^campaigns\[0\]\.notify: /],
  ])('%s is one path-precise error', (_name, extra, re) => {
    const got = issues(doc(extra));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(re);
  });

  it('bad outcomes section values', () => {
    expect(issues(doc('', 'outcomes: { signalInterval: 0s }\n'))).toEqual([
      'outcomes.signalInterval: must be a duration from 1s to 7d, got "0s"',
    ]);
    expect(issues(doc('', 'outcomes: { delivery: { attempts: 0 } }\n'))[0]).toMatch(
      /^outcomes\.delivery\.attempts: /,
    );
  });

  it('campaign definitions from upstream take the same keys and checks', () => {
    const c = parseCampaignDefinition(
      {
        id: 'c2',
        qualify: { event: 'dispense' },
        value: 40,
        threshold: 10,
        channels: ['device'],
        conversion: { events: ['reorder'], attributionWindow: '1d' },
      },
      ['scale-1'],
    );
    expect(c.conversion).toEqual({ events: ['reorder'], attributionWindowMs: DAY });
    expect(() =>
      parseCampaignDefinition(
        {
          id: 'c2',
          qualify: { event: 'dispense' },
          value: 40,
          threshold: 10,
          channels: ['device'],
          dwell: { within: 'x' },
        },
        [],
      ),
    ).toThrow(ConfigError);
  });
});
