import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import type { AppServices } from '../services';
import { trayModel, type TrayAction, type TrayItem } from './tray-menu';

/**
 * The tray glue: rebuilds the native menu from `trayModel` whenever a workspace changes. Its actions call the same
 * service functions as the window's buttons.
 */
export function createTray(services: AppServices, assetsDir: string, onAction: (a: TrayAction) => void): () => void {
  const tray = new Tray(nativeImage.createFromPath(join(assetsDir, 'tray-idle.png')));
  const rebuild = async () => {
    const snapshots = await Promise.all(services.registry.list().map((w) => services.snapshot(w.id).catch(() => null)));
    const model = trayModel(snapshots.filter((s) => s !== null));
    tray.setImage(nativeImage.createFromPath(join(assetsDir, `tray-${model.icon}.png`)));
    tray.setToolTip(model.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(model.items.map((i) => toNative(i, onAction))));
  };
  void rebuild();
  const unsubscribe = services.events.subscribe((event) => {
    if (event === 'workspace:changed' || event === 'workspaces:changed' || event === 'operation:finished') void rebuild();
  });
  return () => {
    unsubscribe();
    tray.destroy();
  };
}

function toNative(item: TrayItem, onAction: (a: TrayAction) => void): MenuItemConstructorOptions {
  if (item.separator) return { type: 'separator' };
  const action = item.action;
  return {
    label: item.label,
    enabled: item.enabled,
    ...(item.submenu ? { submenu: item.submenu.map((i) => toNative(i, onAction)) } : {}),
    ...(action ? { click: () => onAction(action) } : {}),
  };
}
