/**
 * Everything the UI asks of main, in one module: each function invokes through the bridge, feeds the stores and
 * turns failures into banners or operation outcomes. Components call these and never the API directly.
 */
import type {
  AppSettings,
  BundleOpened,
  TargetOutcome,
  BackupEntry,
  Channel,
  ErrorData,
  ExportedBundle,
  ImportPreview,
  InvokeArg,
  InvokeResult,
  Result,
  WorkspaceRef,
} from '../../../preload/contract';
import { getApi } from '../bridge';
import { newestValidBackup } from '../lib/backups';
import { hostKeyInfo } from '../lib/host-key';
import { errorSnapshot } from '../lib/snapshot';
import { useErrors } from './errors-store';
import { useImport } from './import-store';
import { useOperations } from './operations-store';
import { useSnapshots } from './snapshots-store';
import { useWorkspaces } from './workspaces-store';

/** Load (or reload) one workspace's snapshot; a failure is shown in place of the snapshot. */
export async function loadSnapshot(workspaceId: string): Promise<void> {
  const r = await getApi().invoke('workspace:snapshot', { workspaceId });
  if (r.ok) {
    useSnapshots.getState().upsert(r.value);
    return;
  }
  const entry = useWorkspaces.getState().entries.find((e) => e.id === workspaceId);
  if (entry) useSnapshots.getState().upsert(errorSnapshot(entry, r.error));
}

export const ADD_TITLE = 'Could not add the workspace';

/** Register a folder or config file; selects it on success. */
export async function addWorkspace(path: string): Promise<boolean> {
  const errors = useErrors.getState();
  const r = await getApi().invoke('workspaces:add', { path });
  if (!r.ok) {
    errors.push(ADD_TITLE, r.error);
    return false;
  }
  errors.clear(ADD_TITLE);
  adopt(r.value);
  return true;
}

/** Show a newly registered workspace at once (the `workspaces:changed` event follows and agrees). */
function adopt(entry: InvokeResult<'workspaces:add'>): void {
  useErrors.getState().clear(ADD_TITLE);
  const ws = useWorkspaces.getState();
  if (!ws.entries.some((e) => e.id === entry.id)) ws.setEntries([...ws.entries, entry]);
  useWorkspaces.getState().select(entry.id);
  void loadSnapshot(entry.id);
}

export async function removeWorkspace(workspaceId: string): Promise<void> {
  const r = await getApi().invoke('workspaces:remove', { workspaceId });
  if (!r.ok) {
    useErrors.getState().push('Could not remove the workspace', r.error, workspaceId);
    return;
  }
  const ws = useWorkspaces.getState();
  ws.setEntries(ws.entries.filter((e) => e.id !== workspaceId));
  useSnapshots.getState().prune(useWorkspaces.getState().entries.map((e) => e.id));
}

export async function createDemo(kind: 'cluster' | 'federation'): Promise<void> {
  const title = `Could not create the demo ${kind}`;
  const r = await getApi().invoke(kind === 'cluster' ? 'cluster:create-demo' : 'federation:create-demo', {});
  if (!r.ok) {
    useErrors.getState().push(title, r.error);
    return;
  }
  useErrors.getState().clear(title);
  adopt(r.value);
}

/** Channels that mutate a workspace (or hold its lock) and so run as a tracked operation. */
export type OperationChannel =
  | 'cluster:start'
  | 'cluster:stop'
  | 'cluster:destroy'
  | 'cluster:refresh'
  | 'cluster:vm-action'
  | 'federation:start'
  | 'federation:stop'
  | 'federation:clean'
  | 'federation:probe'
  | 'state:restore'
  | 'state:import'
  | 'state:adopt'
  | 'state:unlock'
  | 'state:push'
  | 'state:pull'
  | 'workspace:adopt-lineage';

/** Per-target results a failed operation carries (a partial start lists what worked and what did not). */
export function outcomesOfError(error: ErrorData): TargetOutcome[] {
  const list = error.details?.outcomes;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (o): o is TargetOutcome =>
      typeof o === 'object' && o !== null && typeof (o as TargetOutcome).target === 'string' && typeof (o as TargetOutcome).result === 'string',
  );
}

/**
 * Run a mutation on a workspace: marks it busy until main answers and, when an SSH host key is unknown, asks the user
 * to trust it and retries. The new state arrives once, as `workspace:changed`, and the outcome as
 * `operation:finished` (to every window alike); only a refusal before the operation began (busy, a bad argument, a
 * missing confirmation) is recorded from the answer, since no operation ended.
 */
export async function runOperation<C extends OperationChannel>(channel: C, arg: InvokeArg<C> & WorkspaceRef): Promise<Result<InvokeResult<C>>> {
  const { workspaceId } = arg;
  useOperations.getState().begin(workspaceId, channel);
  const r = await getApi().invoke(channel, arg);
  if (r.ok) {
    useOperations.getState().end(workspaceId, null);
    return r;
  }
  const began = typeof r.error.details?.opId === 'string';
  useOperations.getState().end(workspaceId, began ? null : { operation: channel, ok: false, error: r.error, outcomes: outcomesOfError(r.error) });
  maybeAskHostKey(workspaceId, r.error, () => void runOperation(channel, arg));
  return r;
}

function maybeAskHostKey(workspaceId: string, error: ErrorData, retry: () => void): void {
  if (error.code !== 'ssh-hostkey-unknown') return;
  const info = hostKeyInfo(error);
  if (info) useOperations.getState().askHostKey({ workspaceId, info, message: error.message, retry });
}

/** Trust the prompted host key, then retry the operation that hit it. */
export async function trustHostAndRetry(): Promise<void> {
  const prompt = useOperations.getState().hostKeyPrompt;
  if (!prompt) return;
  useOperations.getState().askHostKey(null);
  const r = await getApi().invoke('federation:trust-host', { workspaceId: prompt.workspaceId, ...prompt.info });
  if (!r.ok) {
    useErrors.getState().push('Could not trust the host key', r.error, prompt.workspaceId);
    return;
  }
  prompt.retry();
}

export async function cancelOperation(workspaceId: string, opId: string): Promise<void> {
  const r = await getApi().invoke('operation:cancel', { opId });
  if (!r.ok) useErrors.getState().push('Could not cancel the operation', r.error, workspaceId);
}

/** A read-only call whose failure becomes a banner on the workspace; returns the value or null. */
export async function query<C extends Channel>(title: string, channel: C, arg: InvokeArg<C> & WorkspaceRef): Promise<InvokeResult<C> | null> {
  const r = await getApi().invoke(channel, arg);
  if (r.ok) {
    useErrors.getState().clear(title, arg.workspaceId);
    return r.value;
  }
  useErrors.getState().push(title, r.error, arg.workspaceId);
  maybeAskHostKey(arg.workspaceId, r.error, () => void query(title, channel, arg));
  return null;
}

export function listBackups(workspaceId: string): Promise<readonly BackupEntry[] | null> {
  return query('Could not list backups', 'state:backups', { workspaceId });
}

export const RESTORE_TITLE = 'Could not restore the backup';

/** Restore one backup over the state file. */
export async function restoreBackup(workspaceId: string, backupId: string, adoptLineage = false): Promise<boolean> {
  const r = await runOperation('state:restore', { workspaceId, backupId, ...(adoptLineage ? { adopt: true } : {}) });
  if (!r.ok) useErrors.getState().push(RESTORE_TITLE, r.error, workspaceId);
  else useErrors.getState().clear(RESTORE_TITLE, workspaceId);
  return r.ok;
}

/** The corrupt-state remedy: restore the newest backup that validates. */
export async function restoreNewestValid(workspaceId: string): Promise<boolean> {
  const backups = await listBackups(workspaceId);
  if (!backups) return false;
  const best = newestValidBackup(backups);
  if (!best) {
    useErrors
      .getState()
      .push(
        RESTORE_TITLE,
        { code: 'not-found', message: 'No valid backup was found for this workspace.', hint: 'Import a state file, or fix the file by hand.' },
        workspaceId,
      );
    return false;
  }
  return restoreBackup(workspaceId, best.id);
}

export async function unlockState(workspaceId: string, lockId: string): Promise<void> {
  const r = await runOperation('state:unlock', { workspaceId, lockId });
  if (!r.ok) useErrors.getState().push('Could not unlock the state', r.error, workspaceId);
}

/** Export the state; a browser gets a download, Electron's main may already have saved it (`savedTo`). */
export async function exportState(workspaceId: string, redactHome = false): Promise<ExportedBundle | null> {
  const bundle = await query('Could not export the state', 'state:export', { workspaceId, ...(redactHome ? { redactHome: true } : {}) });
  if (bundle && !bundle.savedTo) download(bundle.fileName, bundle.content);
  return bundle;
}

function download(fileName: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke later: some browsers read the URL asynchronously after click().
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function previewImport(workspaceId: string, content: string): Promise<ImportPreview | null> {
  return query('Could not read the state file', 'state:import-preview', { workspaceId, content });
}

export async function applyImport(workspaceId: string, content: string, force: boolean, adoptLineage: boolean): Promise<boolean> {
  const r = await runOperation('state:import', {
    workspaceId,
    content,
    ...(force ? { force: true } : {}),
    ...(adoptLineage ? { adopt: true } : {}),
  });
  if (!r.ok) useErrors.getState().push('Could not import the state', r.error, workspaceId);
  return r.ok;
}

/** Read a picked or dropped file and open the import preview for it. */
export async function startImport(workspaceId: string, file: File): Promise<void> {
  let content: string;
  try {
    content = await file.text();
  } catch (err) {
    useErrors.getState().push('Could not read the state file', { code: 'invalid-argument', message: `${file.name}: ${String(err)}` }, workspaceId);
    return;
  }
  const preview = await previewImport(workspaceId, content);
  if (preview) useImport.getState().set({ workspaceId, fileName: file.name, content, preview });
}

/** A `.cdstate` opened from the OS: select its workspace and open the import preview, or say why not. */
export async function openBundle(ev: BundleOpened): Promise<void> {
  if (!ev.workspaceId) {
    useErrors.getState().push('Could not open the state file', {
      code: 'bundle-invalid',
      message: ev.message,
      hint: 'Add the workspace, then import the file from its State tab.',
    });
    return;
  }
  useWorkspaces.getState().select(ev.workspaceId);
  const preview = await previewImport(ev.workspaceId, ev.content);
  if (preview) useImport.getState().set({ workspaceId: ev.workspaceId, fileName: ev.fileName, content: ev.content, preview });
}

/** After `state-foreign`: accept the state file now in place as this workspace's deployment. */
export async function adoptLineage(workspaceId: string): Promise<void> {
  const r = await getApi().invoke('workspace:adopt-lineage', { workspaceId });
  if (!r.ok) useErrors.getState().push('Could not adopt the state', r.error, workspaceId);
}

/** The app's settings, or null (with a banner) when they cannot be read. */
export async function loadSettings(): Promise<AppSettings | null> {
  const r = await getApi().invoke('settings:get', {});
  if (r.ok) return r.value;
  useErrors.getState().push('Could not read the settings', r.error);
  return null;
}

/** Saves settings; false (with a banner) when main refused them. */
export async function saveSettings(changes: Partial<AppSettings>): Promise<boolean> {
  const r = await getApi().invoke('settings:set', changes);
  if (!r.ok) useErrors.getState().push('Could not save the settings', r.error);
  return r.ok;
}

/** The workspace setting "state backend" (a postgres:// URL without password; null: the config's, else the local file). */
export async function setWorkspaceBackend(workspaceId: string, backend: string | null): Promise<boolean> {
  const title = 'Could not change the state backend';
  const r = await getApi().invoke('workspaces:set-backend', { workspaceId, backend });
  if (!r.ok) {
    useErrors.getState().push(title, r.error, workspaceId);
    return false;
  }
  useErrors.getState().clear(title);
  const ws = useWorkspaces.getState();
  ws.setEntries(ws.entries.map((e) => (e.id === workspaceId ? r.value : e)));
  await loadSnapshot(workspaceId);
  return true;
}

/** Push the local state file to a PostgreSQL backend, or pull one into it (the State tab's move form). */
export async function moveState(direction: 'push' | 'pull', workspaceId: string, url: string, key: string, adopt: boolean): Promise<string | null> {
  const channel = direction === 'push' ? 'state:push' : 'state:pull';
  const r = await runOperation(channel, { workspaceId, url, ...(key ? { key } : {}), ...(adopt ? { adopt: true } : {}) });
  if (!r.ok) {
    useErrors.getState().push(direction === 'push' ? 'Could not push the state' : 'Could not pull the state', r.error, workspaceId);
    return null;
  }
  const o = r.value.outcomes[0];
  return o ? `${o.result === 'pushed' ? 'Pushed to' : 'Pulled into'} ${o.target}: ${o.message ?? ''}` : 'Done.';
}
