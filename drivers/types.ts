import type { DeviceFrame, GatewayFrame, ProtocolError } from '../firmware-bridge/protocol';

/**
 * What a transport driver reports upward. Drivers never import the agent (DESIGN §2): the agent hands them a
 * sink implementing this interface.
 */
export interface FrameSink {
  /** A well-formed frame from a device. `reply` sends a gateway frame back on the same link. */
  onFrame(deviceId: string, frame: DeviceFrame, reply: (frame: GatewayFrame) => void): void;
  /** A frame that failed to decode (bad CRC, CBOR, COBS, oversize…). Counted, never fatal. */
  onBadFrame(deviceId: string, error: ProtocolError): void;
  /** Link state changes: port opened/closed, BLE connected/disconnected. */
  onLink(deviceId: string, connected: boolean, detail?: string): void;
}

export interface Driver {
  readonly name: string;
  start(sink: FrameSink): Promise<void>;
  stop(): Promise<void>;
  /** Sends a gateway frame to a device; false when the device is not reachable now. */
  send(deviceId: string, frame: GatewayFrame): boolean;
  /** Transport-level figures for `status` (adapter state, devices ignored in discovery, reconnects…). */
  stats?(): object;
}
