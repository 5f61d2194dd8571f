import * as fs from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { UpstreamConfig } from '../config/types';

export class UpstreamConfigError extends Error {}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UpstreamConfigError(`upstream.${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * mqtt.js options for one connection attempt: credentials (username/password, or a ThingsBoard access token as
 * the username), TLS material read from files (re-read at every attempt, so a renewed certificate is picked up
 * without a restart), no automatic reconnect (the publisher owns backoff and a fresh client per connection).
 */
export function mqttConnectOptions(u: UpstreamConfig, gatewayId: string, will: IClientOptions['will'] | undefined): IClientOptions {
  const o: IClientOptions = {
    clientId: u.clientId ?? `edge-agent-${gatewayId}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: u.keepaliveS,
    ...(will ? { will } : {}),
  };
  if (u.accessToken !== undefined) o.username = u.accessToken;
  else if (u.username !== undefined) o.username = u.username;
  if (u.password !== undefined) o.password = u.password;
  if (u.ca !== undefined) o.ca = readPem(u.ca, 'ca');
  if (u.cert !== undefined) o.cert = readPem(u.cert, 'cert');
  if (u.key !== undefined) o.key = readPem(u.key, 'key');
  if ((u.cert === undefined) !== (u.key === undefined)) throw new UpstreamConfigError('upstream.cert and upstream.key go together (client certificate and its key)');
  return o;
}

/** The broker URL without any credentials in it, for status and logs. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** One line that says what is wrong with the uplink and what to do. */
export function describeMqttError(err: Error & { code?: string | number }, url: string): string {
  const code = err.code;
  if (code === 4 || code === 134) return 'the broker refused the credentials (bad username or password): check upstream.username/password or accessToken';
  if (code === 5 || code === 135) return 'the broker refused this client (not authorized: a wrong username/password, or an ACL without it — Mosquitto answers a bad password this way): check upstream.username/password or accessToken, then the broker ACL';
  if (code === 2 || code === 133) return 'the broker rejected the client id: set upstream.clientId';
  if (typeof code === 'string' && TLS_CODES.has(code)) {
    return `TLS: cannot verify the broker's certificate (${code}): set upstream.ca to the CA that signed it, and use the broker's host name in the URL`;
  }
  if (code === 'ECONNREFUSED') return `broker unreachable: connection refused at ${redactedUrl(url)}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `broker host not found: ${redactedUrl(url)} (DNS)`;
  if (/alert|handshake|certificate/i.test(err.message)) return `TLS handshake failed: ${err.message} (client certificate missing or not accepted?)`;
  return err.message;
}
