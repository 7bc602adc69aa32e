import type { WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { ConfirmDialog } from './Dialog';
import { NameList } from './NameList';

/** Removing asks first only when something still runs: the list forgets it, but the VMs or participants keep going. */
export function needsRemoveConfirmation(snapshot: WorkspaceSnapshot | undefined): boolean {
  return snapshot?.status === 'running' || snapshot?.status === 'partial';
}

/** Says what removing a workspace of a running deployment means: nothing on disk goes, but nobody watches it any more. */
export function RemoveWorkspaceDialog({
  entry,
  snapshot,
  onCancel,
  onConfirm,
}: {
  readonly entry: WorkspaceEntry;
  readonly snapshot: WorkspaceSnapshot | undefined;
  readonly onCancel: () => void;
  readonly onConfirm: () => void;
}) {
  const running =
    snapshot?.cluster?.vms.filter((v) => v.state === 'RUNNING' || v.state === 'PAUSED').map((v) => v.name) ??
    snapshot?.federation?.machines.map((m) => `${m.name} (${m.kind === 'local' ? 'localhost' : m.host})`) ??
    [];
  const what = entry.kind === 'cluster' ? 'cluster' : 'federation';
  return (
    <ConfirmDialog title={`Remove ${entry.name} while it runs?`} confirmLabel="Remove from list" danger wide onCancel={onCancel} onConfirm={onConfirm}>
      <p>
        The {what} is {snapshot?.status}. Removing the workspace only takes it off this list: nothing is stopped or deleted. What goes is Clusterdesk’s watch
        over it — these keep running with no one here to stop them:
      </p>
      <div className="destroy-list">
        <NameList title={entry.kind === 'cluster' ? 'Running VMs' : 'Running participants'} label="Still running" items={running} whenEmpty="none" />
        <NameList title="Kept on disk" label="Kept on disk" items={[entry.path, entry.statePath]} whenEmpty="none" />
      </div>
      <p className="muted small">Add the same {entry.kind === 'cluster' ? 'config file' : 'folder'} again to manage it.</p>
    </ConfirmDialog>
  );
}
