import { useState } from 'react';
import type { WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { setWorkspaceBackend } from '../stores/actions';

/**
 * The workspace setting "state backend": a PostgreSQL URL (no password: ~/.pgpass, PGPASSWORD or a client
 * certificate) holding this workspace's state instead of its local file. It wins over the config's
 * `clusterdesk.backend`; clearing it goes back to the config's, else the local file. Move the state first
 * (`clusterdesk state push --to URL`) so the history comes along.
 */
export function BackendForm({ entry, snapshot, busy }: { readonly entry: WorkspaceEntry; readonly snapshot: WorkspaceSnapshot; readonly busy: boolean }) {
  const [url, setUrl] = useState(entry.backend ?? '');
  const [saving, setSaving] = useState(false);
  const save = async (value: string | null) => {
    setSaving(true);
    try {
      if (await setWorkspaceBackend(entry.id, value)) setUrl(value ?? '');
    } finally {
      setSaving(false);
    }
  };
  return (
    <section aria-labelledby="backend-title" className="panel-section">
      <h3 id="backend-title">State backend</h3>
      <p className="small" data-testid="backend-now">
        {snapshot.backend ? (
          <>
            PostgreSQL <code>{snapshot.backend.label}</code>
            {entry.backend ? ' (workspace setting)' : ' (from the config’s clusterdesk.backend)'}
          </>
        ) : (
          <>
            Local file <code>{entry.statePath}</code>
          </>
        )}
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void save(url.trim() || null);
        }}
      >
        <label className="small">
          PostgreSQL URL{' '}
          <input
            type="text"
            name="backend"
            value={url}
            size={50}
            spellCheck={false}
            placeholder="postgres://me@db.lab:5432/clusterdesk?schema=clusterdesk&workspace=KEY"
            onChange={(e) => setUrl(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy || saving || url.trim() === (entry.backend ?? '')}>
          Use this backend
        </button>
        {entry.backend ? (
          <button type="button" disabled={busy || saving} onClick={() => void save(null)}>
            Back to the config’s / local file
          </button>
        ) : null}
      </form>
      <p className="muted small">No password in the URL: put it in ~/.pgpass or PGPASSWORD. Push the local state there first to keep its history.</p>
    </section>
  );
}
