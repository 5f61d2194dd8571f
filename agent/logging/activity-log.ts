import type { EventBus } from '../event-bus';
import type { Logger } from '../logger';

/**
 * What the agent did, in the log, without personal data at info: device ids and link details (a port path, a BLE
 * address) are equipment; profile ids can be a family's name, so they appear at debug only. Values never appear.
 * Link changes are logged once per change, not per frame. Logging ends when the agent announces its stop: links
 * closing then are not link losses. Returns the unsubscribe.
 */
export function logActivity(bus: EventBus, log: Logger): () => void {
  const linked = new Map<string, boolean>();
  const offs = [
    bus.on('device', (e) => {
      if (linked.get(e.id) === e.connected) return;
      linked.set(e.id, e.connected);
      if (e.connected) log.info('device linked', { device: e.id });
      else log.warn('device link down', { device: e.id, ...(e.detail !== undefined ? { detail: e.detail } : {}) });
    }),
    bus.on('trigger', (e) => {
      log.info('campaign triggered', { campaign: e.campaign, channels: e.channels, signal: e.signalId });
      log.debug('trigger detail', { profile: e.profile, campaign: e.campaign, index: e.index });
    }),
    bus.on('consent', (e) => {
      const scope = e.scope === 'device' ? { device: e.subject } : {};
      log.info(e.granted ? 'consent granted' : 'consent withdrawn', { scope: e.scope, ...scope, target: e.target, source: e.source, purged: e.purged });
      if (e.scope !== 'device') log.debug('consent subject', { scope: e.scope, subject: e.subject, target: e.target });
    }),
    bus.on('firmware-choice', (e) => {
      const until = e.until === null ? {} : { until: new Date(e.until).toISOString() };
      log.info('firmware update choice from the device button', { device: e.device, choice: e.choice, ...until });
    }),
  ];
  const off = (): void => offs.forEach((o) => o());
  offs.push(bus.on('stopping', off));
  return off;
}
