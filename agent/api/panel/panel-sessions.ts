import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'edge_panel';

export interface PanelSession {
  /** sent back by the page in X-CSRF-Token on every mutation */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

const digest = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * Panel sessions, in memory: a restart signs every browser out (the pairing code signs it in again). The
 * cookie value is a 256-bit random id; the store keeps only its SHA-256, so a heap dump holds no usable cookie.
 */
export class PanelSessions {
  private readonly sessions = new Map<string, PanelSession>();

  constructor(
    private readonly clock: () => number,
    private readonly lifetimeMs: number,
    /** oldest sessions are dropped beyond this many (a phone per household member is a handful) */
    private readonly max = 64,
  ) {}

  create(): { id: string; session: PanelSession } {
    const now = this.clock();
    this.expire(now);
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const session: PanelSession = { csrf: randomBytes(32).toString('base64url'), createdAt: now, expiresAt: now + this.lifetimeMs };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The session named by the request's cookie header, if it exists and has not expired. */
  fromCookie(cookieHeader: string | undefined): PanelSession | undefined {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const s = this.sessions.get(digest(id));
    if (!s) return undefined;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(digest(id));
      return undefined;
    }
    return s;
  }

  end(cookieHeader: string | undefined): void {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(digest(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  private expire(now: number): void {
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }
}

export function csrfMatches(session: PanelSession, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** HttpOnly: page scripts never see it; SameSite=Strict: other sites cannot make the browser send it. */
export function sessionCookie(id: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/panel; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/panel; HttpOnly; SameSite=Strict; Max-Age=0`;
}
