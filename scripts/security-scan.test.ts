import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanHtml, scanProject, scanSource } from './security-scan';

describe('security scan', () => {
  it('flags insecure window settings, raw IPC and code injection', () => {
    const bad = `
      new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: flag, enableBlinkFeatures: 'x' } });
      contextBridge.exposeInMainWorld('ipc', ipcRenderer);
      shell.openExternal(url);
      win.webContents.executeJavaScript(code);`;
    const ids = scanSource('/r/main/bad.ts', bad, '/r').map((f) => f.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'WEBPREF_NODEINTEGRATION',
        'WEBPREF_CONTEXTISOLATION',
        'WEBPREF_NOT_LITERAL',
        'FORBIDDEN_WEBPREF',
        'RAW_IPC_EXPOSED',
        'OPEN_EXTERNAL',
        'CODE_INJECTION',
      ]),
    );
  });

  it('requires a strict CSP without inline scripts', () => {
    expect(scanHtml('/r/i.html', '<html></html>', '/r').map((f) => f.id)).toEqual(['CSP_MISSING']);
    const loose = `<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'unsafe-inline'"><script>x()</script>`;
    expect(scanHtml('/r/i.html', loose, '/r').map((f) => f.id)).toEqual(['CSP_DEFAULT', 'CSP_UNSAFE', 'INLINE_SCRIPT']);
  });

  it('finds no high-severity issue in Clusterdesk itself', () => {
    const high = scanProject(join(import.meta.dirname, '..')).filter((f) => f.severity === 'high');
    expect(high).toEqual([]);
  });
});
