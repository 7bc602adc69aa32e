import { Menu, Tray, nativeImage } from 'electron';
import { join } from 'node:path';
import { trayTemplate } from '../../preload/tray-template';
import type { DeskFeed } from '../workspaces/desk-feed';
import { nativeMenu } from './tray-menu';

/**
 * The tray glue, thin: the template comes from the host's event-fed desk (no state file is read to rebuild it); a
 * click runs `app:tray-click` with the item's id, the same door `serve` offers.
 */
export function createTray(desk: DeskFeed, assetsDir: string, onClick: (itemId: string) => void): () => void {
  const tray = new Tray(nativeImage.createFromPath(join(assetsDir, 'tray-idle.png')));
  let icon = 'idle';
  const render = () => {
    const template = trayTemplate(desk.current());
    if (template.icon !== icon) {
      icon = template.icon;
      tray.setImage(nativeImage.createFromPath(join(assetsDir, `tray-${icon}.png`)));
    }
    tray.setToolTip(template.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(nativeMenu(template.items, onClick)));
  };
  const off = desk.onChange(render);
  void desk.start().then(render);
  return () => {
    off();
    tray.destroy();
  };
}
