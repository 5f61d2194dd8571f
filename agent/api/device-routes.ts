import type { AgentConfig } from '../config/types';
import { CommandError, type DeviceCommander } from '../devices/device-commander';
import type { ApiResponse, ApiRoutes } from './http-api';

/** Device endpoints of the local API; used by `edge-agent devices identify|notify`. */
export function deviceRoutes(deps: { config: AgentConfig; commander: DeviceCommander }): Pick<ApiRoutes, 'deviceCommand'> {
  return {
    deviceCommand: async (device: string, raw: unknown): Promise<ApiResponse> => {
      if (!deps.config.devices.some((d) => d.id === device)) {
        return { status: 404, body: { error: `no device "${device}" in the config (see: edge-agent devices list)` } };
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { status: 400, body: { error: 'body must be a JSON object' } };
      const { command, timeoutMs, ...args } = raw as Record<string, unknown>;
      if (typeof command !== 'string') return { status: 400, body: { error: '"command" must be a string' } };
      if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || timeoutMs < 50 || timeoutMs > 30_000)) {
        return { status: 400, body: { error: '"timeoutMs" must be a number from 50 to 30000' } };
      }
      try {
        const r = await deps.commander.send(device, command, args, timeoutMs === undefined ? {} : { timeoutMs });
        // 504: the request was fine, the device did not confirm it.
        return { status: r.acked ? 200 : 504, body: r };
      } catch (err) {
        if (err instanceof CommandError) return { status: 400, body: { error: err.message } };
        throw err;
      }
    },
  };
}
