/** Keeps the stores in step with main: one initial fetch, then change events; a full refetch after each reconnect. */
import type { ClusterdeskApi, OperationFinished, WorkspaceEntry } from '../../../preload/contract';
import { notificationFor } from '../../../preload/desk-model';
import { onConnectionStatus } from '../bridge';
import { loadSnapshot, openBundle } from './actions';
import { useApp } from './app-store';
import { useConnection } from './connection-store';
import { useErrors } from './errors-store';
import { useOperations } from './operations-store';
import { addedIds } from './reducers';
import { useSnapshots } from './snapshots-store';
import { useTasks } from './tasks-store';
import { useToasts } from './toasts-store';
import { useWorkspaces } from './workspaces-store';

function applyEntries(entries: readonly WorkspaceEntry[], reloadAll: boolean): void {
  const prev = useWorkspaces.getState().entries;
  useWorkspaces.getState().setEntries(entries);
  useSnapshots.getState().prune(entries.map((e) => e.id));
  const toLoad = reloadAll ? entries.map((e) => e.id) : addedIds(prev, entries);
  for (const id of toLoad) void loadSnapshot(id);
}

async function fetchAll(api: ClusterdeskApi): Promise<void> {
  const [info, list] = await Promise.all([api.invoke('app:info', {}), api.invoke('workspaces:list', {})]);
  if (info.ok) useApp.getState().setInfo(info.value);
  if (list.ok) {
    useErrors.getState().clear('Could not list workspaces');
    applyEntries(list.value, true);
  } else {
    useErrors.getState().push('Could not list workspaces', list.error);
  }
}

/** Subscribe the stores to `api` until `signal` aborts. */
export function startSync(api: ClusterdeskApi, signal: AbortSignal): void {
  api.on('workspaces:changed', (entries) => applyEntries(entries, false), signal);
  // A patch the window cannot apply (it missed one, or holds no snapshot yet) asks for a whole snapshot, once at a time.
  const resyncing = new Set<string>();
  api.on(
    'workspace:changed',
    (change) => {
      if (useSnapshots.getState().change(change) || resyncing.has(change.id)) return;
      resyncing.add(change.id);
      void loadSnapshot(change.id).finally(() => resyncing.delete(change.id));
    },
    signal,
  );
  api.on(
    'operation:progress',
    (ev) => {
      useOperations.getState().progress(ev);
      useTasks.getState().progress(ev);
    },
    signal,
  );
  api.on('operation:finished', (ev) => finished(ev), signal);
  api.on('bundle:opened', (ev) => void openBundle(ev), signal);
  onConnectionStatus((status) => {
    useApp.getState().setConnection(status);
    useConnection.getState().set(status);
    // Events sent while we were away are lost; a fresh fetch is the only way to be right again.
    if (status === 'open') void fetchAll(api);
  }, signal);
}

/** An operation ended: the workspace's view, the task list, the dashboard's history, and a toast from the one model. */
function finished(ev: OperationFinished): void {
  useOperations.getState().finished(ev);
  const status = useSnapshots.getState().byId[ev.workspaceId]?.status;
  useTasks.getState().finished(ev, status);
  const name = useWorkspaces.getState().entries.find((e) => e.id === ev.workspaceId)?.name ?? 'Workspace';
  const n = notificationFor(ev, name, useTasks.getState().history[ev.workspaceId]?.drift ?? null);
  if (n) useToasts.getState().push(n);
}
