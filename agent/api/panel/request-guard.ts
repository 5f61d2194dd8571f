import { isIP } from 'node:net';
import * as os from 'node:os';

/** Splits a Host header ("gw.local:8788", "[::1]:8787") into its name, lower-cased, without brackets. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const i = h.lastIndexOf(':');
  return i >= 0 ? h.slice(0, i) : h;
}

/**
 * DNS-rebinding guard: a page on evil.example that re-points its name at the gateway still sends
 * `Host: evil.example`, so only names the household can actually use are answered: IP literals, localhost,
 * this machine's own name (and name.local, mDNS) and the names configured in `api.panel.allowedHosts`.
 */
export class HostAllowList {
  private readonly names: Set<string>;

  constructor(extra: readonly string[], machineName = os.hostname()) {
    const m = machineName.toLowerCase();
    this.names = new Set(['localhost', m, `${m}.local`, ...extra.map((x) => x.toLowerCase())]);
  }

  allows(host: string | undefined): boolean {
    if (!host) return false;
    const name = hostName(host);
    return isIP(name) !== 0 || this.names.has(name);
  }
}

export type MutationVerdict = { ok: true } | { ok: false; reason: string };

/**
 * A mutation must come from the panel's own page: browsers send Origin on every POST made by fetch, so a
 * missing or foreign Origin (another site, a file:// page) is refused, as is a request the browser itself
 * labels cross-site (Sec-Fetch-Site). The session cookie and the CSRF header are checked separately.
 */
export function checkMutationOrigin(headers: { host?: string; origin?: string; 'sec-fetch-site'?: string }): MutationVerdict {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return { ok: false, reason: `cross-site request refused (Sec-Fetch-Site: ${site})` };
  const origin = headers.origin;
  if (!origin) return { ok: false, reason: 'missing Origin header: changes are accepted only from the panel page' };
  const host = headers.host ?? '';
  if (origin !== `http://${host}` && origin !== `https://${host}`) {
    return { ok: false, reason: `Origin ${origin} is not this panel (${host}): changes are accepted only from the panel page` };
  }
  return { ok: true };
}
