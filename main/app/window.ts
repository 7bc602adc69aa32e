import { BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAppUrl, lockDownContents, secureWebPreferences } from './security';

export interface AppWindow {
  readonly window: BrowserWindow;
  readonly appUrl: string;
  /** True for IPC from this window's top frame on our own page. */
  isTrusted(event: IpcMainInvokeEvent): boolean;
}

/** Creates the main window with the secure defaults and loads the renderer. */
export function createMainWindow(outDir: string, icon: string): AppWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'Clusterdesk',
    icon,
    webPreferences: secureWebPreferences(join(outDir, 'preload', 'index.cjs')),
  });
  const appUrl = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(join(outDir, 'renderer', 'index.html')).href;
  lockDownContents(window.webContents, appUrl);
  window.once('ready-to-show', () => window.show());
  void window.loadURL(appUrl);
  return {
    window,
    appUrl,
    isTrusted: (event) => {
      const frame = event.senderFrame;
      return event.sender === window.webContents && frame !== null && frame.parent === null && isAppUrl(frame.url, appUrl);
    },
  };
}
