/** Keeps the stores in step with main: one initial fetch, then change events; a full refetch after each reconnect. */
import type { ClusterdeskApi, WorkspaceEntry } from '../../../preload/contract';
import { onConnectionStatus } from '../bridge';
import { loadSnapshot, openBundle } from './actions';
import { useApp } from './app-store';
import { useErrors } from './errors-store';
import { useOperations } from './operations-store';
import { addedIds } from './reducers';
import { useSnapshots } from './snapshots-store';
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
  api.on('operation:progress', (ev) => useOperations.getState().progress(ev), signal);
  api.on('operation:finished', (ev) => useOperations.getState().finished(ev), signal);
  api.on('bundle:opened', (ev) => void openBundle(ev), signal);
  onConnectionStatus((status) => {
    useApp.getState().setConnection(status);
    // Events sent while we were away are lost; a fresh fetch is the only way to be right again.
    if (status === 'open') void fetchAll(api);
  }, signal);
}
