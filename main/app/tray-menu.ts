import type { MenuItemConstructorOptions } from 'electron';
import type { TrayMenuItem } from '../../preload/contract';

/**
 * The tray menu is built by the pure `trayTemplate` (preload/tray-template.ts) from the events the host received;
 * `serve` answers the same template as `app:tray-template`. This module only maps it onto Electron's menu options.
 */
export { applyDeskEvent, EMPTY_DESK, trayTemplate, type DeskState } from '../../preload/tray-template';

/** Electron menu options for the template's items; a click hands the item's id to `onClick` (→ `app:tray-click`). */
export function nativeMenu(items: readonly TrayMenuItem[], onClick: (itemId: string) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.separator) return { type: 'separator' };
    return {
      id: item.id,
      label: item.label,
      enabled: item.enabled,
      ...(item.reason ? { toolTip: item.reason, sublabel: item.enabled ? undefined : item.reason } : {}),
      ...(item.submenu ? { submenu: nativeMenu(item.submenu, onClick) } : {}),
      ...(item.action ? { click: () => onClick(item.id) } : {}),
    };
  });
}
