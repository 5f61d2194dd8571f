import { randomInt, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The household's pairing code for the privacy panel: 8 digits (easy to type on a phone), kept in
 * `<dataDir>/panel-code` (mode 0600, like api-token) so `edge-agent panel` can show it and `--new-code` can
 * rotate it without restarting the agent, which reads the file at each login attempt.
 */
export const PAIRING_CODE_FILE = 'panel-code';

const CODE = /^[0-9]{8}$/;

export function pairingCodePath(dataDir: string): string {
  return path.join(dataDir, PAIRING_CODE_FILE);
}

/** "12345678" → "1234-5678", the form shown to people. */
export function formatPairingCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person typed, without the separators they may add ("1234 5678", "1234-5678"). */
export function normalisePairingCode(typed: string): string {
  return typed.replace(/[\s-]/g, '');
}

export function readPairingCode(dataDir: string): string | undefined {
  try {
    const c = fs.readFileSync(pairingCodePath(dataDir), 'utf8').trim();
    return CODE.test(c) ? c : undefined;
  } catch {
    return undefined;
  }
}

export function writeNewPairingCode(dataDir: string): string {
  const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = pairingCodePath(dataDir);
  fs.writeFileSync(file, code + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return code;
}

/** Reads the code, creating one on first start. */
export function ensurePairingCode(dataDir: string): string {
  return readPairingCode(dataDir) ?? writeNewPairingCode(dataDir);
}

export function pairingCodeMatches(expected: string, typed: string): boolean {
  const a = Buffer.from(normalisePairingCode(typed));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
