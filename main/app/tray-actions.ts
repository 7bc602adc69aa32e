import { assertNever } from '../../preload/contract';
import { dispatch, type HandlerTable } from '../ipc/dispatch';
import type { TrayAction } from './tray-menu';

/**
 * Runs a tray quick action through the handler table — the same door, validation and operation as the window's
 * button. Failures are reported through the usual `operation:finished` event (and so as a notification), so nothing
 * is thrown here.
 */
export async function runTrayAction(table: HandlerTable, action: TrayAction, ui: { show(): void; quit(): void }): Promise<void> {
  switch (action.kind) {
    case 'show-window':
      return ui.show();
    case 'quit':
      return ui.quit();
    case 'cluster': {
      const { workspaceId } = action;
      if (action.op === 'start') await dispatch(table, 'cluster:start', { workspaceId });
      else if (action.op === 'stop') await dispatch(table, 'cluster:stop', { workspaceId });
      else await dispatch(table, 'cluster:refresh', { workspaceId });
      return;
    }
    case 'federation': {
      const { workspaceId } = action;
      if (action.op === 'start') await dispatch(table, 'federation:start', { workspaceId });
      else if (action.op === 'stop') await dispatch(table, 'federation:stop', { workspaceId });
      else if (action.op === 'clean') await dispatch(table, 'federation:clean', { workspaceId });
      else await dispatch(table, 'federation:probe', { workspaceId });
      return;
    }
    default:
      return assertNever(action);
  }
}
