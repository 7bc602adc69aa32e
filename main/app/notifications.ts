import { Notification } from 'electron';
import type { OperationFinished } from '../../preload/contract';
import { desktopShows, notificationFor } from '../../preload/desk-model';
import type { DeskFeed } from '../workspaces/desk-feed';
import type { EventHub } from '../ipc/events';

/**
 * Electron notifications from the one model (preload/desk-model.ts) the page's toasts use: failures and drift always,
 * a finished operation when the window is not focused. The drift comes from the host's desk, already updated by the
 * same `operation:finished` event (the desk subscribed first).
 */
export function installNotifications(events: EventHub, desk: DeskFeed, windowFocused: () => boolean): () => void {
  return events.subscribe((event, payload) => {
    if (event !== 'operation:finished' || !Notification.isSupported()) return;
    const ev = payload as OperationFinished;
    const state = desk.current();
    const name = state.entries.find((w) => w.id === ev.workspaceId)?.name ?? 'Workspace';
    const n = notificationFor(ev, name, state.drift[ev.workspaceId] ?? null);
    if (n && desktopShows(n, windowFocused())) new Notification({ title: n.title, body: n.body }).show();
  });
}
