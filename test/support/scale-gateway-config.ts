import type { AgentConfig } from '../../agent/config';
import { testConfig } from './test-config';

/**
 * A gateway with one kitchen scale `scale-1` on a serial port, paired to profile home-a, its usage data and the
 * coffee campaign (qualified by dispense events) consented; the device's own button may only withdraw.
 */
export function scaleGatewayConfig(dataDir: string, port: string, gatewayId: string): AgentConfig {
  return testConfig(dataDir, {
    id: gatewayId,
    devices: [{ id: 'scale-1', transport: 'serial', port, profile: 'home-a' }],
    campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: 72, threshold: 1e9, channels: ['push'] }],
    storage: { maxBytes: 1 << 28 },
    consent: {
      grants: [
        { device: 'scale-1', category: 'usage' },
        { profile: 'home-a', campaign: 'coffee' },
      ],
    },
  });
}
