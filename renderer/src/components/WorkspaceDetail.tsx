import { useState } from 'react';
import type { WorkspaceSnapshot } from '../../../preload/contract';
import { displayStatus } from '../lib/status';
import { adoptLineage, restoreNewestValid } from '../stores/actions';
import { useErrors } from '../stores/errors-store';
import { useOperations } from '../stores/operations-store';
import { isBusy } from '../stores/reducers';
import { useSnapshots } from '../stores/snapshots-store';
import { useWorkspaces } from '../stores/workspaces-store';
import { AdoptNotice } from './AdoptPanel';
import { BackendStatus, StaleBanner } from './BackendStatus';
import { ClusterView } from './ClusterView';
import { ErrorBanner } from './ErrorBanner';
import { FederationView } from './FederationView';
import { KindIcon } from './KindIcon';
import { StatusBadge } from './StatusBadge';

/** The selected workspace: its header, its errors, and the cluster or federation view. */
export function WorkspaceDetail({ workspaceId }: { readonly workspaceId: string }) {
  const entry = useWorkspaces((s) => s.entries.find((e) => e.id === workspaceId));
  const snapshot = useSnapshots((s) => s.byId[workspaceId]);
  const ops = useOperations((s) => s.byWorkspace[workspaceId]);
  if (!entry) return null;
  const busy = isBusy(ops, snapshot);

  return (
    <section className="detail" aria-labelledby="detail-title">
      <div className="detail-header">
        <KindIcon kind={entry.kind} />
        <h2 id="detail-title">{entry.name}</h2>
        <StatusBadge status={displayStatus(snapshot)} operation={snapshot?.operation?.name ?? null} />
        <span className="muted small detail-path" title={entry.path}>
          {entry.path}
        </span>
        {snapshot ? <BackendStatus snapshot={snapshot} /> : null}
      </div>
      {snapshot ? <StaleBanner snapshot={snapshot} /> : null}
      {snapshot?.error ? <SnapshotError snapshot={snapshot} busy={busy} /> : null}
      <WorkspaceBanners workspaceId={workspaceId} />
      {snapshot ? <AdoptNotice snapshot={snapshot} busy={busy} /> : null}
      {!snapshot ? (
        <p className="muted" role="status">
          Loading state…
        </p>
      ) : snapshot.kind === 'cluster' ? (
        <ClusterView snapshot={snapshot} entry={entry} busy={busy} />
      ) : (
        <FederationView snapshot={snapshot} entry={entry} busy={busy} />
      )}
    </section>
  );
}

/** The state could not be read: say why, and offer the usual remedy for a corrupt file. */
function SnapshotError({ snapshot, busy }: { readonly snapshot: WorkspaceSnapshot; readonly busy: boolean }) {
  const [restoring, setRestoring] = useState(false);
  const error = snapshot.error;
  if (!error) return null;
  const restorable = error.code === 'state-corrupt' || error.code === 'state-mismatch' || error.code === 'state-foreign';
  return (
    <ErrorBanner title="The state file cannot be used" error={error}>
      {restorable ? (
        <button
          type="button"
          className="primary"
          disabled={busy || restoring}
          onClick={async () => {
            setRestoring(true);
            try {
              await restoreNewestValid(snapshot.id);
            } finally {
              setRestoring(false);
            }
          }}
        >
          Restore newest valid backup
        </button>
      ) : null}
      {error.code === 'state-foreign' ? (
        <button type="button" disabled={busy || restoring} onClick={() => void adoptLineage(snapshot.id)}>
          Adopt this state
        </button>
      ) : null}
    </ErrorBanner>
  );
}

function WorkspaceBanners({ workspaceId }: { readonly workspaceId: string }) {
  const banners = useErrors((s) => s.banners);
  const dismiss = useErrors((s) => s.dismiss);
  const mine = banners.filter((b) => b.workspaceId === workspaceId);
  if (mine.length === 0) return null;
  return (
    <div className="banners">
      {mine.map((b) => (
        <ErrorBanner key={b.id} title={b.title} error={b.error} onDismiss={() => dismiss(b.id)} />
      ))}
    </div>
  );
}
