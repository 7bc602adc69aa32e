import { timingSafeEqual } from 'node:crypto';
import { WS_TOKEN_PROTOCOL_PREFIX, wsTokenProtocol } from '../../preload/wire';

/** How a request's credentials compare with the host's token. */
export type AuthVerdict = 'ok' | 'missing' | 'wrong';

/** Constant-time token comparison. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks the token of a WebSocket upgrade. Two places count, and only these: the `Sec-WebSocket-Protocol` entry
 * `clusterdesk.token.<hex>` (what the page sends; see `wsTokenProtocol`) and an `Authorization: Bearer` header
 * (non-browser clients). Cookies and query strings are never read: a cookie reaches every port of the host, a query
 * string lands in logs.
 */
export function checkToken(expected: string, headers: { protocol?: string | undefined; authorization?: string | undefined }): AuthVerdict {
  const candidates: [string, string][] = [];
  for (const entry of (headers.protocol ?? '').split(',')) {
    const p = entry.trim();
    if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) candidates.push([wsTokenProtocol(expected), p]);
  }
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ') && auth.length > 7) candidates.push([expected, auth.slice(7)]);
  if (candidates.length === 0) return 'missing';
  return candidates.some(([want, got]) => tokenMatches(want, got)) ? 'ok' : 'wrong';
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

/**
 * Is a request's `Host` one of the names the host is reached by? A page of another site whose DNS name was rebound to
 * 127.0.0.1 sends its own name, so it cannot even read the static files. Clients that send no Host are not browsers.
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined) return true;
  return allowed.includes(host.toLowerCase());
}

/** Loopback addresses: binding anything else needs an explicit `--host`. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Wildcard addresses (every interface). Refused: a page opened by any of the machine's names would have an Origin the
 * host cannot list in advance, so either every origin would be allowed or the page would not work.
 */
export function isWildcardHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === '' || h === '0.0.0.0' || h === '::' || /^(0+:){7}0+$/.test(h) || h === '::0' || h === '0';
}
