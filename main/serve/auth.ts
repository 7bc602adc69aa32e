import { timingSafeEqual } from 'node:crypto';
import { TOKEN_COOKIE } from '../../preload/wire';

/** How a request's credentials compare with the host's token. */
export type AuthVerdict = 'ok' | 'missing' | 'wrong';

/** Constant-time token comparison. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads a cookie value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Checks the token of a request: `?token=` in the URL, an `Authorization: Bearer` header, or the session cookie set
 * by an authenticated page load (so the page's scripts and styles need no query string).
 */
export function checkToken(expected: string, url: URL, headers: { cookie?: string; authorization?: string }): AuthVerdict {
  const candidates = [
    url.searchParams.get('token') ?? undefined,
    headers.authorization?.startsWith('Bearer ') ? headers.authorization.slice(7) : undefined,
    readCookie(headers.cookie, TOKEN_COOKIE),
  ].filter((c): c is string => typeof c === 'string' && c.length > 0);
  if (candidates.length === 0) return 'missing';
  return candidates.some((c) => tokenMatches(expected, c)) ? 'ok' : 'wrong';
}

/**
 * Is a WebSocket upgrade's Origin one of ours? Browsers always send Origin on WebSocket handshakes; a page on any
 * other origin (a malicious site probing localhost) is refused even if it somehow has the token. Non-browser clients
 * send no Origin and are judged by the token alone.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes(origin.toLowerCase());
}

/** Loopback addresses: binding anything else needs an explicit `--host`. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
