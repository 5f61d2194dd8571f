import type { AgentConfig } from '../../agent/config';

/**
 * A gateway with one kitchen scale `scale-1` on a serial port, paired to profile home-a, its usage data and the
 * coffee campaign (qualified by dispense events) consented; the device's own button may only withdraw.
 */
export function scaleGatewayConfig(dataDir: string, port: string, gatewayId: string): AgentConfig {
  return {
    gateway: { id: gatewayId, dataDir },
    api: { listen: '127.0.0.1:0' },
    devices: [{ id: 'scale-1', transport: 'serial', port, baud: 115200, profile: 'home-a' }],
    campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: { kind: 'constant', v: 72 }, threshold: 1e9, cooldownMs: 0, channels: ['push'] }],
    engagement: { windowDays: 30, recencyFloorDays: 1, recencyScale: 100, signalIntervalS: 60 },
    storage: { maxBytes: 1 << 28, rawRetentionDays: 30, groupCommitMs: 5, groupCommitRows: 500 },
    consent: {
      policyVersion: 1,
      requirePolicy: {},
      deviceButtonMayGrant: [],
      grants: [
        { device: 'scale-1', category: 'usage' },
        { profile: 'home-a', campaign: 'coffee' },
      ],
    },
    log: { level: 'error' },
  };
}
