import { Menu, dialog, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';

export interface AppMenuActions {
  /** Opens a `.cdstate` chosen in the native dialog (the same path as a file opened from the OS). */
  importBundle(path: string): void;
  quit(): void;
}

/**
 * The application menu: File → Import state…, Quit; the standard Edit / View / Window roles. Actions reuse the
 * same code paths as the window (the import goes through `bundle:opened`, then the renderer's preview dialog).
 */
export function installAppMenu(window: () => BrowserWindow | null, actions: AppMenuActions): void {
  const importItem: MenuItemConstructorOptions = {
    label: 'Import State…',
    accelerator: 'CmdOrCtrl+I',
    click: async () => {
      const win = window();
      const options = { properties: ['openFile' as const], filters: [{ name: 'Clusterdesk state', extensions: ['cdstate', 'json'] }] };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      const path = r.canceled ? undefined : r.filePaths[0];
      if (path) actions.importBundle(path);
    },
  };
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { label: 'File', submenu: [importItem, { type: 'separator' }, { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => actions.quit() }] },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
