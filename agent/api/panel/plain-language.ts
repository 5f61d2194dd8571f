/**
 * What the panel tells a household, in plain words: every data category, channel and qualifying event the
 * agent knows. Kept apart from the page so the words are reviewed (and translated) in one place.
 */
export interface Explanation {
  label: string;
  explanation: string;
}

export const CATEGORY_WORDS: Record<string, Explanation> = {
  environment: {
    label: 'Environment',
    explanation: 'Temperature, humidity and similar readings about a room or an appliance. Nothing about people.',
  },
  presence: {
    label: 'Presence',
    explanation: 'Whether someone is in a room, and when. Over time this shows your daily routine.',
  },
  usage: {
    label: 'Usage',
    explanation: 'When and how you use the appliance, for example each time coffee is weighed out or the fridge door opens.',
  },
  location: {
    label: 'Location',
    explanation: 'Where a device or a person is, for example which room.',
  },
  health: {
    label: 'Health',
    explanation:
      'Body readings such as heart rate. Health data is specially protected by law (GDPR Art. 9): it is never collected unless you switch it on here, by name.',
  },
  biometric: {
    label: 'Biometric',
    explanation:
      'Data that can recognise a person by their body, such as a fingerprint or the way they walk. Specially protected by law (GDPR Art. 9): never collected unless you switch it on here, by name.',
  },
};

export const CHANNEL_WORDS: Record<string, Explanation> = {
  push: { label: 'App notifications', explanation: 'Offers may appear as notifications from the brand’s app on your phone.' },
  sms: { label: 'Text messages', explanation: 'Offers may be sent to your phone as text messages (SMS).' },
  email: { label: 'Email', explanation: 'Offers may be sent to your email address.' },
  device: { label: 'On the device itself', explanation: 'The device may blink, beep or show a short reminder, even without internet.' },
};

const EVENT_WORDS: Record<string, string> = {
  dispense: 'something is weighed out on the scale (for example a portion of coffee)',
  reorder: 'the reorder button is pressed',
  door_open: 'the fridge door is opened',
  presence_start: 'someone comes into the room',
  presence_end: 'the room becomes empty',
  button: 'the device’s button is pressed',
};

export function categoryWords(category: string): Explanation {
  return CATEGORY_WORDS[category] ?? { label: category, explanation: `Data the device labels “${category}”.` };
}

export function channelWords(channel: string): Explanation {
  return CHANNEL_WORDS[channel] ?? { label: channel, explanation: `Messages by ${channel}.` };
}

export function eventWords(event: string): string {
  return EVENT_WORDS[event] ?? `a “${event}” event happens`;
}

function duration(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return n === 1 ? `once a ${name}` : `once every ${n} ${name}s`;
    }
  }
  return `once every ${Math.round(ms / 1000)} seconds`;
}

/** One paragraph saying what a campaign does with the household's data, and how it may reach them. */
export function campaignWords(c: { event: string; devices: readonly string[]; threshold: number; cooldownMs: number; channels: readonly string[] }): string {
  const from = c.devices.length > 0 ? ` on ${c.devices.join(', ')}` : '';
  const via = c.channels.map((ch) => channelWords(ch).label.toLowerCase()).join(' or ');
  const often = c.cooldownMs > 0 ? ` At most ${duration(c.cooldownMs)}.` : '';
  return (
    `Counts each time ${eventWords(c.event)}${from}, on this gateway only. When those counts show enough interest ` +
    `(engagement index above ${c.threshold}), the brand may send you an offer by ${via} — only through the ` +
    `channels you allow below.${often} The brand receives the score, never the readings themselves.`
  );
}
