import { CAP_UPDATE } from '../../firmware-bridge/protocol';
import type { Rollout } from './rollout-plan';

export interface PendingUpdateNoticesDeps {
  /** what the device's last hello said (helloAt null: restored from the registry, no hello to this agent yet) */
  session: (device: string) => { connected: boolean; helloAt: number | null; caps: readonly string[] } | null;
  /** the command `{"c": "update", "v": version}` */
  send: (device: string, version: string) => Promise<unknown>;
}

/**
 * Tells a device that a firmware update is pending for it (0x82 `{"c": "update", "v": …}`), so it can show it and
 * offer its button's "not now" (0x06 firmware-choice): only firmware whose hello declared `cap: ["update"]` (older
 * firmware rejects an unknown command), only while the device waits in the rollout (PENDING with a reason: deferred,
 * busy, outside the window, its turn not yet come), once per version and per hello — a device that boots again
 * has forgotten it, so it is told again after its hello.
 */
export class PendingUpdateNotices {
  /** device → the version and the hello it was told in (or is being told) */
  private readonly told = new Map<string, { version: string; helloAt: number | null }>();

  constructor(private readonly deps: PendingUpdateNoticesDeps) {}

  /** Sends what is due for the rollout as it is now (the sends go on in the background). */
  refresh(rollout: Rollout): void {
    const version = rollout.pkg.version;
    for (const d of rollout.devices) {
      // PENDING without a reason is the device about to be flashed: telling it now would only make it busy
      if (d.state !== 'PENDING' || d.reason === null) continue;
      const s = this.deps.session(d.id);
      if (!s || !s.connected || !s.caps.includes(CAP_UPDATE)) continue;
      const told = this.told.get(d.id);
      if (told && told.version === version && told.helloAt === s.helloAt) continue;
      // Sent once: the commander repeats it until acked (3 tries). One the device never acks is not sent again
      // before its next hello: a command awaiting its ack makes the device busy, and the rollout waits for idle.
      this.told.set(d.id, { version, helloAt: s.helloAt });
      void this.deps.send(d.id, version).catch(() => undefined);
    }
  }
}
