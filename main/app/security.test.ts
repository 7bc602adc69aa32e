import { describe, expect, it } from 'vitest';
import { isAppUrl, secureWebPreferences } from './security';

describe('window security', () => {
  it('uses isolation, the sandbox and no Node in the page', () => {
    const p = secureWebPreferences('/x/preload.cjs');
    expect(p).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, webSecurity: true });
  });

  it('treats only our own page as the app', () => {
    expect(isAppUrl('file:///opt/app/out/renderer/index.html#x', 'file:///opt/app/out/renderer/index.html')).toBe(true);
    expect(isAppUrl('file:///etc/passwd', 'file:///opt/app/out/renderer/index.html')).toBe(false);
    expect(isAppUrl('https://example.com/', 'file:///opt/app/out/renderer/index.html')).toBe(false);
    expect(isAppUrl('http://localhost:5173/a', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/a', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('not a url', 'http://localhost:5173/')).toBe(false);
  });
});
