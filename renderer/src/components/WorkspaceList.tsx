import { useState } from 'react';
import { displayStatus } from '../lib/status';
import { removeWorkspace } from '../stores/actions';
import { useNav } from '../stores/nav-store';
import { useSnapshots } from '../stores/snapshots-store';
import { useWorkspaces } from '../stores/workspaces-store';
import { KindIcon } from './KindIcon';
import { needsRemoveConfirmation, RemoveWorkspaceDialog } from './RemoveWorkspaceDialog';
import { StatusBadge } from './StatusBadge';

/** The registered workspaces; each row selects its workspace and has a remove button. */
export function WorkspaceList() {
  const entries = useWorkspaces((s) => s.entries);
  const selectedId = useWorkspaces((s) => s.selectedId);
  const open = useNav((s) => s.open);
  const home = useNav((s) => s.home);
  const snapshots = useSnapshots((s) => s.byId);
  const [removing, setRemoving] = useState<string | null>(null);
  const removingEntry = removing ? entries.find((e) => e.id === removing) : undefined;

  if (entries.length === 0) return <p className="muted small sidebar-empty">No workspaces yet.</p>;

  return (
    <>
      <ul className="workspace-list" aria-label="Workspace list">
        {entries.map((e) => {
          const selected = !home && e.id === selectedId;
          return (
            <li key={e.id} className={selected ? 'workspace-item selected' : 'workspace-item'}>
              {/* Named by the workspace alone so `getByRole('button', { name })` is predictable; path and status describe it
                (hidden from the name, kept as the description, so the visible label and the name agree). */}
              <button
                type="button"
                className="workspace-select"
                aria-describedby={`ws-path-${e.id} ws-status-${e.id}`}
                aria-current={selected ? 'true' : undefined}
                onClick={() => open(e.id)}
                title={e.path}
              >
                <span aria-hidden="true" className="workspace-kind">
                  <KindIcon kind={e.kind} />
                </span>
                <span className="workspace-text">
                  <span className="workspace-name">{e.name}</span>
                  <span className="workspace-path" id={`ws-path-${e.id}`} aria-hidden="true">
                    <bdi>{e.path}</bdi>
                  </span>
                </span>
                <span aria-hidden="true" className="workspace-status">
                  <StatusBadge id={`ws-status-${e.id}`} status={displayStatus(snapshots[e.id])} operation={snapshots[e.id]?.operation?.name ?? null} />
                </span>
              </button>
              <button
                type="button"
                className="icon-button"
                aria-label={`Remove ${e.name}`}
                title={`Remove ${e.name} from the list (files stay)`}
                onClick={() => (needsRemoveConfirmation(snapshots[e.id]) ? setRemoving(e.id) : void removeWorkspace(e.id))}
              >
                <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
                  <path d="M3 3l10 10M13 3L3 13" stroke="currentColor" strokeWidth="1.8" />
                </svg>
              </button>
            </li>
          );
        })}
      </ul>
      {removingEntry ? (
        <RemoveWorkspaceDialog
          entry={removingEntry}
          snapshot={snapshots[removingEntry.id]}
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            setRemoving(null);
            void removeWorkspace(removingEntry.id);
          }}
        />
      ) : null}
    </>
  );
}
