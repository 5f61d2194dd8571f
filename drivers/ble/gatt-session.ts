import type * as NodeBle from 'node-ble';
import type { GatewayFrame } from '../../firmware-bridge/protocol';

/**
 * What runs over one BLE connection once the GATT table is resolved: our firmware's frame channel or a
 * third-party sensor mapping. One instance per device for the driver's lifetime (it remembers things across
 * reconnects); `open` and `close` bracket each connection.
 */
export interface GattSession {
  /**
   * Finds the characteristics, subscribes, and returns the link detail for status (the link releases every
   * characteristic's signals when the connection ends). Throws when the device lacks what the config says it has.
   */
  open(gatt: NodeBle.GattServer): Promise<string>;
  /** The connection ended (or is being ended): stop timers and writes. */
  close(): void;
  /** Sends a gateway frame; false when the device cannot be reached now. */
  send(frame: GatewayFrame): boolean;
}

export class GattSessionError extends Error {}
