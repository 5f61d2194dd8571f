import { isIP } from 'node:net';
import { parseListen } from './http-listener';

/** Is `host` (from a `host:port` listen address) reachable only from this machine? */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * `api.listen` off loopback is allowed (a technician may firewall it) but never silent (issue #21): the API's reads
 * (status, metrics, the consent ledger) need no token, so whoever can reach the address can read them. A warning
 * in `config validate` and at every start; phones belong on `api.panel.lanListen`, which serves the panel only.
 */
export function apiListenWarning(listen: string): string | null {
  let host: string;
  try {
    host = parseListen(listen).host;
  } catch {
    return null; // the schema reports a malformed address
  }
  if (isLoopbackHost(host)) return null;
  return (
    `api.listen ${listen} is not a loopback address: anyone who can reach it can read status, metrics and the consent ` +
    `ledger without a token. Use 127.0.0.1:<port>, and api.panel.lanListen to open the household panel to phones`
  );
}
