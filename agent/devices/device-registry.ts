import { DeviceSession } from '../pipeline/device-session';

/**
 * The devices the agent knows (configured or seen) and the gateway→device sequence numbers. Shared by the
 * ingest pipeline (which updates sessions from frames), device commands and status, so it exists before any
 * of them.
 */
export class DeviceRegistry {
  readonly sessions = new Map<string, DeviceSession>();
  private readonly gatewaySeq = new Map<string, number>();

  /** Registers a configured device so it shows in status before its first frame. */
  register(id: string, transport: string, profile: string | null): DeviceSession {
    let s = this.sessions.get(id);
    if (!s) {
      s = new DeviceSession(id, transport, profile);
      this.sessions.set(id, s);
    }
    return s;
  }

  session(id: string): DeviceSession {
    return this.sessions.get(id) ?? this.register(id, 'unknown', null);
  }

  /** Next gateway→device seq for a device (per direction, wraps at 16 bits). */
  nextSeq(deviceId: string): number {
    const s = ((this.gatewaySeq.get(deviceId) ?? -1) + 1) & 0xffff;
    this.gatewaySeq.set(deviceId, s);
    return s;
  }
}
