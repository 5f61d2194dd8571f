import type { DeviceSession } from '../../pipeline/device-session';
import type { PanelDeviceFacts } from './panel-view';

/** The panel's view of the pipeline's device sessions (what each device said in its last hello). */
export function deviceFacts(sessions: Iterable<DeviceSession>): Map<string, PanelDeviceFacts> {
  const out = new Map<string, PanelDeviceFacts>();
  for (const s of sessions) {
    out.set(s.id, {
      id: s.id,
      model: s.model,
      connected: s.connected,
      lastSeen: s.lastSeen,
      categories: s.categories(),
      eventCategories: [...new Set([...s.channels.values()].filter((c) => c.k === 'event').map((c) => c.c))],
    });
  }
  return out;
}
