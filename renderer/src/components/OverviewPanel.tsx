import { useState } from 'react';
import type { WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { formatTimestamp, shortLineage } from '../lib/format';
import { displayStatus } from '../lib/status';
import { unlockState } from '../stores/actions';
import { ConfirmDialog } from './Dialog';
import { kindLabel } from './KindIcon';
import { StatusBadge } from './StatusBadge';

interface Props {
  readonly snapshot: WorkspaceSnapshot;
  readonly entry: WorkspaceEntry;
  readonly busy: boolean;
}

/** What the state file says about itself, and who holds its lock. */
export function OverviewPanel({ snapshot, entry, busy }: Props) {
  const [confirmUnlock, setConfirmUnlock] = useState(false);
  const lock = snapshot.lock;
  return (
    <div className="overview">
      <dl className="facts" aria-label="Workspace facts">
        <dt>Kind</dt>
        <dd>{kindLabel(snapshot.kind)}</dd>
        <dt>Path</dt>
        <dd className="mono">{snapshot.path}</dd>
        <dt>State file</dt>
        <dd className="mono">{snapshot.statePath}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={displayStatus(snapshot)} operation={snapshot?.operation?.name ?? null} />
        </dd>
        <dt>Serial</dt>
        <dd>{snapshot.serial ?? '—'}</dd>
        <dt>Lineage</dt>
        <dd className="mono" title={snapshot.lineage ?? undefined}>
          {shortLineage(snapshot.lineage)}
        </dd>
        <dt>Last modified</dt>
        <dd>{formatTimestamp(snapshot.lastModified)}</dd>
        {entry.libvirtUri ? (
          <>
            <dt>libvirt URI</dt>
            <dd className="mono">{entry.libvirtUri}</dd>
          </>
        ) : null}
        <dt>Lock</dt>
        <dd>
          {lock ? (
            <span className="lock">
              <span>
                Held by pid {lock.pid} on {lock.host} for {lock.operation} since {formatTimestamp(lock.since)}
                {lock.stale ? <strong className="warn-text"> (stale)</strong> : null}
              </span>
              <button type="button" disabled={busy} onClick={() => setConfirmUnlock(true)}>
                Unlock
              </button>
            </span>
          ) : (
            'Not locked'
          )}
        </dd>
      </dl>
      {confirmUnlock && lock ? (
        <ConfirmDialog
          title="Break the state lock?"
          confirmLabel="Unlock"
          danger
          onCancel={() => setConfirmUnlock(false)}
          onConfirm={() => {
            setConfirmUnlock(false);
            void unlockState(snapshot.id, lock.id);
          }}
        >
          <p>
            The lock is held by pid {lock.pid} on {lock.host} ({lock.operation}, since {formatTimestamp(lock.since)}).
            {lock.stale ? ' It looks stale: its process is gone or its heartbeat is old.' : ' It does not look stale.'}
          </p>
          <p>Breaking a lock that is still in use can let two writers overwrite each other. Unlock only if that process is gone.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
