import * as os from 'node:os';
import { parseListen } from '../../api/http-api';
import { formatPairingCode, pairingCodePath, readPairingCode, writeNewPairingCode } from '../../api/panel/pairing-code';
import type { AgentConfig } from '../../config/types';
import { CliError } from '../cli-error';
import { printJson, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';

export interface PanelInfo {
  /** where to open it on the gateway itself (loopback) */
  local: string[];
  /** where phones on the home network open it (LAN mode only) */
  lan: string[];
  pairingCode: string;
  codeFile: string;
  renewed: boolean;
}

/** Every address a wildcard listener ("0.0.0.0", "::") answers on, as the household would type it. */
function urlsOf(listen: string, interfaces = os.networkInterfaces()): string[] {
  const { host, port } = parseListen(listen);
  const url = (h: string): string => `http://${h.includes(':') ? `[${h}]` : h}:${port}/panel/`;
  if (host !== '0.0.0.0' && host !== '::') return [url(host)];
  const ips = Object.values(interfaces)
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && !a.internal && (a.family === 'IPv4' || host === '::'))
    .map((a) => a.address);
  return [url('127.0.0.1'), ...ips.map(url)];
}

/** What `edge-agent panel` shows; `renew` writes a new pairing code (the running agent reads it at the next sign-in). */
export function panelInfo(config: AgentConfig, renew = false): PanelInfo {
  const panel = config.api.panel;
  if (panel?.enabled === false) throw new CliError('the household panel is switched off in the config (api.panel.enabled: false)', 1);
  const dataDir = config.gateway.dataDir;
  let code: string | undefined;
  try {
    code = renew ? writeNewPairingCode(dataDir) : (readPairingCode(dataDir) ?? writeNewPairingCode(dataDir));
  } catch (err) {
    throw new CliError(
      `cannot ${renew ? 'write' : 'read'} ${pairingCodePath(dataDir)} (${(err as NodeJS.ErrnoException).code ?? String(err)}) — run as the agent's user, e.g. sudo -u edge-agent edge-agent panel`,
      1,
    );
  }
  return {
    local: urlsOf(config.api.listen),
    lan: panel?.lanListen ? urlsOf(panel.lanListen).filter((u) => !u.startsWith('http://127.0.0.1:')) : [],
    pairingCode: formatPairingCode(code),
    codeFile: pairingCodePath(dataDir),
    renewed: renew,
  };
}

export function renderPanelInfo(i: PanelInfo): string {
  const lines = ['Household privacy panel'];
  for (const u of i.local) lines.push(`  on this gateway:      ${u}`);
  if (i.lan.length > 0) for (const u of i.lan) lines.push(`  on the home network:  ${u}`);
  else lines.push('  on the home network:  off (set api.panel.lanListen, e.g. "0.0.0.0:8788", to let phones open it)');
  lines.push(`  pairing code:         ${i.pairingCode}${i.renewed ? '  (new: the old code no longer signs anyone in)' : ''}`);
  return lines.join('\n');
}

/** `edge-agent panel [--config F] [--new-code] [--json]`: where to open the panel and the code to sign in with. */
export async function panelCommand(opts: { config?: string; newCode?: boolean; json?: boolean }, io: CliOutput): Promise<number> {
  const { config } = loadConfigOrExit(opts.config);
  const info = panelInfo(config, opts.newCode === true);
  if (opts.json) printJson(io, info);
  else io.out(renderPanelInfo(info));
  return 0;
}
