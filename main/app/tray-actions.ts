import { assertNever } from '../../preload/contract';
import type { AppServices } from '../services';
import type { TrayAction } from './tray-menu';

/**
 * Runs a tray quick action through the same service functions the window's buttons call. Failures are reported
 * through the usual `operation:finished` event (and so as a notification), so nothing is thrown here.
 */
export async function runTrayAction(services: AppServices, action: TrayAction, ui: { show(): void; quit(): void }): Promise<void> {
  try {
    switch (action.kind) {
      case 'show-window':
        return ui.show();
      case 'quit':
        return ui.quit();
      case 'cluster': {
        const clusters = services.clusters;
        if (!clusters) return;
        if (action.op === 'start') await clusters.start(action.workspaceId);
        else if (action.op === 'stop') await clusters.stop(action.workspaceId);
        else await clusters.refresh(action.workspaceId, false);
        return;
      }
      case 'federation': {
        const feds = services.federations;
        if (!feds) return;
        if (action.op === 'start') await feds.start(action.workspaceId);
        else if (action.op === 'stop') await feds.stop(action.workspaceId);
        else if (action.op === 'clean') await feds.clean(action.workspaceId, false);
        else await feds.probe(action.workspaceId);
        return;
      }
      default:
        return assertNever(action);
    }
  } catch {
    // Already reported as an operation:finished event with the error.
  }
}
