import { useEffect, useState, type ChangeEvent } from 'react';
import type { BackupEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { serialAfterRestore } from '../../../preload/restore-plan';
import { sortBackups } from '../lib/backups';
import { formatTimestamp, restoreChanges, shortLineage } from '../lib/format';
import { exportState, listBackups, restoreBackup, startImport } from '../stores/actions';
import { useWorkspaces } from '../stores/workspaces-store';
import { AdoptNotice } from './AdoptPanel';
import { BackendForm } from './BackendForm';
import { ChangeTable } from './ChangeTable';
import { ConfirmDialog } from './Dialog';

interface Props {
  readonly snapshot: WorkspaceSnapshot;
  readonly busy: boolean;
}

/** Backups with restore, and export / import of the state. */
export function StatePanel({ snapshot, busy }: Props) {
  const [backups, setBackups] = useState<readonly BackupEntry[] | null>(null);
  const [restoring, setRestoring] = useState<BackupEntry | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [redactHome, setRedactHome] = useState(false);
  const workspaceId = snapshot.id;
  const entry = useWorkspaces((s) => s.entries.find((e) => e.id === workspaceId));

  // Reload whenever the state file changes: every write adds a generation.
  useEffect(() => {
    let live = true;
    void listBackups(workspaceId).then((b) => {
      if (live && b) setBackups(sortBackups(b));
    });
    return () => {
      live = false;
    };
  }, [workspaceId, snapshot.serial, snapshot.lastModified, snapshot.error?.code]);

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = ''; // picking the same file again must fire change again
    if (file) void startImport(workspaceId, file);
  };

  const unit = snapshot.kind === 'cluster' ? 'VMs' : 'Machines';

  return (
    <div className="state-panel">
      <AdoptNotice snapshot={snapshot} busy={busy} />
      {entry ? <BackendForm entry={entry} snapshot={snapshot} busy={busy} /> : null}
      <section aria-labelledby="share-title" className="panel-section">
        <h3 id="share-title">Export and import</h3>
        <div className="row">
          <button
            type="button"
            disabled={Boolean(snapshot.error)}
            onClick={async () => {
              const b = await exportState(workspaceId, redactHome);
              setExported(b ? (b.savedTo ? `Saved to ${b.savedTo}` : `Downloaded ${b.fileName}`) : null);
            }}
          >
            Export state
          </button>
          <label className="small">
            <input type="checkbox" checked={redactHome} onChange={(e) => setRedactHome(e.target.checked)} /> Replace my home folder with ~
          </label>
          <label className={busy ? 'button disabled' : 'button'}>
            Import state file
            <input type="file" className="visually-hidden" accept=".cdstate,.json,application/json" disabled={busy} onChange={onFile} />
          </label>
          <span className="muted small">or drop a file onto the window</span>
        </div>
        {exported ? (
          <p role="status" className="small">
            {exported}
          </p>
        ) : null}
      </section>

      <section aria-labelledby="backups-title" className="panel-section">
        <h3 id="backups-title">Backups</h3>
        {backups === null ? (
          <p className="muted">Loading backups…</p>
        ) : backups.length === 0 ? (
          <p className="muted">No backups yet; one is kept every time the state is written.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table" aria-label="Backups">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Serial</th>
                  <th scope="col">Status</th>
                  <th scope="col">{unit}</th>
                  <th scope="col">Lineage</th>
                  <th scope="col">Valid</th>
                  <th scope="col">Source</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {backups.map((b) => (
                  <tr key={b.id}>
                    <td>{formatTimestamp(b.savedAt)}</td>
                    <td>{b.serial ?? '—'}</td>
                    <td>{b.status ?? '—'}</td>
                    <td>{b.count ?? '—'}</td>
                    <td className="mono">{shortLineage(b.lineage)}</td>
                    <td>{b.valid ? 'valid' : <span title={b.error}>invalid{b.error ? `: ${b.error}` : ''}</span>}</td>
                    <td>{b.source}</td>
                    <td>
                      <button type="button" disabled={busy || !b.valid} onClick={() => setRestoring(b)}>
                        Restore
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {restoring ? (
        <ConfirmDialog
          title="Restore this backup?"
          confirmLabel="Restore"
          onCancel={() => setRestoring(null)}
          onConfirm={() => {
            const b = restoring;
            setRestoring(null);
            void restoreBackup(workspaceId, b.id);
          }}
        >
          <p>
            The content of the {b2label(restoring)} is written as a new generation, serial{' '}
            <strong>
              {serialAfterRestore({ serial: snapshot.serial, unreadable: Boolean(snapshot.error), lineage: snapshot.lineage }, backups ?? [restoring])}
            </strong>
            . The current file is kept as a backup, so this can be undone.
            {snapshot.kind === 'cluster' ? ' libvirt is read right after, and any drift is shown.' : ''}
          </p>
          <ChangeTable label="Changes" rows={restoreChanges(snapshot, restoring, backups ?? [restoring])} />
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function b2label(b: BackupEntry): string {
  return `backup from ${formatTimestamp(b.savedAt)} (serial ${b.serial ?? '—'})`;
}
