import { useState } from 'react';
import type { WorkspaceEntry, WorkspaceSnapshot } from '../../../preload/contract';
import { moveState, setWorkspaceBackend } from '../stores/actions';

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
      <MoveForm entry={entry} initialUrl={url} busy={busy} />
    </section>
  );
}

/** Push the local state file (with its history) to a PostgreSQL backend, or pull one into it: `clusterdesk state push / pull`. */
function MoveForm({ entry, initialUrl, busy }: { readonly entry: WorkspaceEntry; readonly initialUrl: string; readonly busy: boolean }) {
  const [url, setUrl] = useState(initialUrl);
  const [key, setKey] = useState('');
  const [adopt, setAdopt] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const run = async (direction: 'push' | 'pull') => {
    setDone(null);
    setDone(await moveState(direction, entry.id, url.trim(), key.trim(), adopt));
  };
  const ready = !busy && url.trim() !== '';
  return (
    <fieldset className="move-state">
      <legend className="small">Move the local state file</legend>
      <div className="row">
        <label className="small">
          PostgreSQL URL <input type="text" name="move-url" value={url} size={40} spellCheck={false} onChange={(e) => setUrl(e.target.value)} />
        </label>
        <label className="small">
          Key <input type="text" name="move-key" value={key} size={14} placeholder={entry.name} onChange={(e) => setKey(e.target.value)} />
        </label>
        <label className="small">
          <input type="checkbox" checked={adopt} onChange={(e) => setAdopt(e.target.checked)} /> Replace another lineage
        </label>
      </div>
      <div className="row">
        <button type="button" disabled={!ready} onClick={() => void run('push')}>
          Push to PostgreSQL
        </button>
        <button type="button" disabled={!ready} onClick={() => void run('pull')}>
          Pull into the local file
        </button>
      </div>
      {done ? (
        <p role="status" className="small">
          {done}
        </p>
      ) : null}
    </fieldset>
  );
}
