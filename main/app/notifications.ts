import type { OperationFinished } from '../../preload/contract';
import { operationLabel } from '../../preload/operation-labels';

/** Quick reads that never notify on success. */
const QUIET: ReadonlySet<string> = new Set(['cluster:refresh', 'cluster:validate', 'federation:probe']);

/** A desktop notification to show, or null for none. */
export interface NotificationModel {
  readonly title: string;
  readonly body: string;
}

/**
 * Notifies only about what a user would otherwise miss: long operations ending while the window is not focused,
 * and every failure. Quick reads (refresh, probe) stay quiet when they succeed.
 */
export function notificationFor(event: OperationFinished, workspaceName: string, windowFocused: boolean): NotificationModel | null {
  if (!event.ok) {
    if (event.error?.code === 'cancelled') return null;
    return { title: `${workspaceName}: ${operationLabel(event.operation)} failed`, body: event.error?.message ?? 'Unknown error.' };
  }
  if (windowFocused) return null;
  if (QUIET.has(event.operation)) return null;
  return { title: `${workspaceName}: ${operationLabel(event.operation)} finished`, body: 'Open Clusterdesk to see the details.' };
}
