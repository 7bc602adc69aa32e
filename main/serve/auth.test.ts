import { describe, expect, it } from 'vitest';
import { wsTokenProtocol } from '../../preload/wire';
import { checkToken, hostAllowed, isLoopbackHost, isWildcardHost, originAllowed, tokenMatches } from './auth';

describe('serve auth', () => {
  const proto = (t: string) => `clusterdesk.v1, ${wsTokenProtocol(t)}`;

  it('accepts the token from the subprotocol list or a bearer header, and from nothing else', () => {
    expect(checkToken('abc', { protocol: proto('abc') })).toBe('ok');
    expect(checkToken('abc', { authorization: 'Bearer abc' })).toBe('ok');
    expect(checkToken('a token with spaces, commas; and ünïcode', { protocol: proto('a token with spaces, commas; and ünïcode') })).toBe('ok');
    // Cookies and query strings are not credentials: checkToken does not even receive them.
    expect(checkToken('abc', {})).toBe('missing');
  });

  it('tells a missing token from a wrong one', () => {
    expect(checkToken('abc', { protocol: 'clusterdesk.v1' })).toBe('missing');
    expect(checkToken('abc', { protocol: proto('abd') })).toBe('wrong');
    expect(checkToken('abc', { authorization: 'Bearer abd' })).toBe('wrong');
    expect(checkToken('abc', { authorization: 'Bearer ' })).toBe('missing');
    expect(tokenMatches('abc', 'abcd')).toBe(false);
  });

  it('encodes any token as a valid subprotocol token (hex of its UTF-8)', () => {
    expect(wsTokenProtocol('tok')).toBe('clusterdesk.token.746f6b');
    expect(wsTokenProtocol('é ,')).toMatch(/^clusterdesk\.token\.[0-9a-f]+$/);
  });

  it('allows only our origins, and clients without one', () => {
    const allowed = ['http://127.0.0.1:1234'];
    expect(originAllowed('http://127.0.0.1:1234', allowed)).toBe(true);
    expect(originAllowed('http://evil.example', allowed)).toBe(false);
    expect(originAllowed('null', allowed)).toBe(false);
    expect(originAllowed(undefined, allowed)).toBe(true);
  });

  it('allows only our Host names, and clients without one', () => {
    expect(hostAllowed('127.0.0.1:1234', ['127.0.0.1:1234'])).toBe(true);
    expect(hostAllowed('Evil.example:1234', ['127.0.0.1:1234'])).toBe(false);
    expect(hostAllowed(undefined, ['127.0.0.1:1234'])).toBe(true);
  });

  it('recognises wildcard addresses', () => {
    for (const h of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '']) expect(isWildcardHost(h), h).toBe(true);
    for (const h of ['127.0.0.1', '192.168.1.4', '::1', 'localhost']) expect(isWildcardHost(h), h).toBe(false);
  });

  it('recognises loopback hosts', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.5.0.9')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.4')).toBe(false);
  });
});
