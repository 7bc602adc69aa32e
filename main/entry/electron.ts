/**
 * The desktop entry: the Electron main process. Only glue lives here — window, tray, notifications, dialogs; every
 * decision is made by the services and the pure functions they use.
 */
import { app, dialog, ipcMain, session } from 'electron';
import { join } from 'node:path';
import { installAppMenu } from '../app/app-menu';
import { installNotifications } from '../app/notifications';
import { lockDownSession } from '../app/security';
import { createTray } from '../app/tray';
import { clickTrayItem } from '../app/tray-actions';
import { createMainWindow, type AppWindow } from '../app/window';
import { composeServices } from '../compose';
import { bindElectronTransport } from '../ipc/electron-transport';
import { bundlePathsFromArgv, openedBundle } from '../sharing/open-file';
import { createHandlerTable } from '../ipc/table';
import { startAutoRefresh } from '../workspaces/auto-refresh';
import { electronStoreBackend } from '../settings/electron-backend';
import { resolveDataDir } from '../settings/settings';

const outDir = join(import.meta.dirname, '..');
const assetsDir = join(outDir, '..', 'assets');

function dataDirArg(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--data-dir');
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--data-dir='))?.slice('--data-dir='.length);
}

// macOS hands over opened files through an event that can fire before the app is ready: keep them until it is.
const pendingOpens: string[] = [];
app.on('open-file', (event, path) => {
  event.preventDefault();
  pendingOpens.push(path);
});

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  const dataDir = resolveDataDir(dataDirArg(process.argv), process.env);
  app.setPath('userData', dataDir);
  await app.whenReady();
  lockDownSession(session.defaultSession);
  const services = await composeServices({ dataDir, settingsBackend: electronStoreBackend(dataDir), host: 'electron' });
  let main: AppWindow | null = null;
  const show = () => {
    if (!main || main.window.isDestroyed()) main = createMainWindow(outDir, join(assetsDir, 'icon.png'));
    if (main.window.isMinimized()) main.window.restore();
    main.window.show();
    main.window.focus();
  };
  const table = createHandlerTable(services, { show, quit: () => app.quit() });
  bindElectronTransport({
    ipcMain,
    table,
    events: services.events,
    isTrusted: (e) => main?.isTrusted(e) ?? false,
    target: () => (main && !main.window.isDestroyed() ? main.window.webContents : null),
  });
  ipcMain.handle('dialog:open-folder', async (e) => {
    if (!main?.isTrusted(e)) return null;
    const r = await dialog.showOpenDialog(main.window, { properties: ['openDirectory'] });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
  ipcMain.handle('dialog:open-file', async (e, filters: { name: string; extensions: string[] }[]) => {
    if (!main?.isTrusted(e)) return null;
    const r = await dialog.showOpenDialog(main.window, { properties: ['openFile'], filters: Array.isArray(filters) ? filters : [] });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });
  const stopAutoRefresh = startAutoRefresh(table, services);
  const disposeNotifications = installNotifications(services.events, services.desk, () => main?.window.isFocused() ?? false);
  const openBundles = async (paths: readonly string[]) => {
    for (const path of paths) services.events.emit('bundle:opened', await openedBundle(path, services.registry.list()));
    if (paths.length) show();
  };
  const disposeTray = createTray(services.desk, assetsDir, (itemId) => void clickTrayItem(table, itemId, (m) => services.warn(m)));
  installAppMenu(() => main?.window ?? null, { importBundle: (path) => void openBundles([path]), quit: () => app.quit() });
  app.removeAllListeners('open-file');
  app.on('open-file', (event, path) => {
    event.preventDefault();
    void openBundles([path]);
  });
  app.on('second-instance', (_event, argv) => {
    show();
    void openBundles(bundlePathsFromArgv(argv.slice(1)));
  });
  app.on('activate', show);
  app.on('window-all-closed', () => {
    // The tray keeps the app alive on every platform: operations keep running with the window closed.
  });
  app.on('before-quit', () => {
    disposeTray();
    disposeNotifications();
    stopAutoRefresh();
    services.dispose();
  });
  show();
  void openBundles([...pendingOpens.splice(0), ...bundlePathsFromArgv(process.argv.slice(1))]);
}

void main();
