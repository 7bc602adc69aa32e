import { describe, expect, it } from 'vitest';
import { checkToken, isLoopbackHost, originAllowed, readCookie, tokenMatches } from './auth';

describe('serve auth', () => {
  const u = (q: string) => new URL(`http://127.0.0.1:1234/${q}`);

  it('accepts the token from query, bearer header or cookie', () => {
    expect(checkToken('abc', u('?token=abc'), {})).toBe('ok');
    expect(checkToken('abc', u(''), { authorization: 'Bearer abc' })).toBe('ok');
    expect(checkToken('abc', u('assets/x.js'), { cookie: 'a=1; clusterdesk_token=abc' })).toBe('ok');
  });

  it('tells a missing token from a wrong one', () => {
    expect(checkToken('abc', u(''), {})).toBe('missing');
    expect(checkToken('abc', u('?token=abd'), {})).toBe('wrong');
    expect(checkToken('abc', u('?token='), { cookie: 'other=abc' })).toBe('missing');
    expect(tokenMatches('abc', 'abcd')).toBe(false);
  });

  it('parses cookies', () => {
    expect(readCookie('x=1;  y = two%20words', 'y')).toBe('two words');
    expect(readCookie(undefined, 'y')).toBeUndefined();
  });

  it('allows only our origins, and clients without one', () => {
    const allowed = ['http://127.0.0.1:1234'];
    expect(originAllowed('http://127.0.0.1:1234', allowed)).toBe(true);
    expect(originAllowed('http://evil.example', allowed)).toBe(false);
    expect(originAllowed('null', allowed)).toBe(false);
    expect(originAllowed(undefined, allowed)).toBe(true);
  });

  it('recognises loopback hosts', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.5.0.9')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.4')).toBe(false);
  });
});
