import type { Category, ChannelInfo } from '../../firmware-bridge/protocol';

/** The simulated household devices (config `model:` of a sim device). */
export const SIM_KINDS = ['kitchen-scale', 'fridge-door', 'presence', 'wearable'] as const;
export type SimKind = (typeof SIM_KINDS)[number];

export interface SimEventSpec {
  /** event name sent in 0x03 frames */
  e: string;
  /** channel it is attributed to (its category decides consent) */
  ch: number;
  /** relative weight among the device's events */
  weight: number;
  /** value generator: base ± spread */
  v?: { base: number; spread: number };
}

export interface SimDeviceDescription {
  model: string;
  channels: ChannelInfo[];
  /** periodic readings: channel, period, value base ± spread */
  readings: Array<{ ch: number; periodMs: number; base: number; spread: number }>;
  /** random events at `defaultRatePerMin` on average (Poisson) */
  events: SimEventSpec[];
  defaultRatePerMin: number;
  /** presence-style devices alternate start/end instead of drawing by weight */
  paired?: { start: string; end: string; ch: number };
}

const ch = (n: number, k: string, c: Category): ChannelInfo => ({ n, k, c });

/** The simulated household's devices, as data (Theengs-decoder style): add a device by adding an entry. */
export const DEVICE_CATALOG: Record<SimKind, SimDeviceDescription> = {
  'kitchen-scale': {
    model: 'kitchen-scale',
    channels: [ch(1, 'weight', 'usage'), ch(2, 'event', 'usage')],
    readings: [{ ch: 1, periodMs: 15_000, base: 480, spread: 120 }],
    events: [
      { e: 'dispense', ch: 2, weight: 19, v: { base: 18, spread: 4 } },
      { e: 'reorder', ch: 2, weight: 1 },
    ],
    defaultRatePerMin: 6,
  },
  'fridge-door': {
    model: 'fridge-door',
    channels: [ch(1, 'temperature', 'environment'), ch(2, 'event', 'usage')],
    readings: [{ ch: 1, periodMs: 30_000, base: 4.5, spread: 1.5 }],
    events: [{ e: 'door_open', ch: 2, weight: 1, v: { base: 20, spread: 15 } }],
    defaultRatePerMin: 4,
  },
  presence: {
    model: 'presence',
    channels: [ch(1, 'event', 'presence')],
    readings: [],
    events: [],
    paired: { start: 'presence_start', end: 'presence_end', ch: 1 },
    defaultRatePerMin: 3,
  },
  wearable: {
    model: 'wearable',
    channels: [ch(1, 'heart_rate', 'health'), ch(2, 'event', 'usage')],
    readings: [{ ch: 1, periodMs: 5_000, base: 72, spread: 12 }],
    events: [{ e: 'button', ch: 2, weight: 1 }],
    defaultRatePerMin: 1,
  },
};
