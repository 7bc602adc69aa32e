import { useState, type FormEvent } from 'react';
import { getApi } from '../bridge';
import { addWorkspace } from '../stores/actions';
import { FolderPicker } from './FolderPicker';

/**
 * Adding a workspace: Electron has native pickers (a folder, or a cluster.yaml file); a browser cannot hand out local
 * paths, so it gets a path field that the host resolves on its own file system.
 */
export function AddWorkspace() {
  const dialogs = getApi().dialogs;
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [browsing, setBrowsing] = useState(false);

  const add = async (p: string) => {
    setBusy(true);
    try {
      if (await addWorkspace(p)) setPath('');
    } finally {
      setBusy(false);
    }
  };

  if (dialogs) {
    return (
      <div className="add-workspace">
        <button
          type="button"
          className="primary"
          disabled={busy}
          onClick={async () => {
            const folder = await dialogs.openFolder();
            if (folder) await add(folder);
          }}
        >
          Add workspace
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            const file = await dialogs.openFile([{ name: 'Cluster config', extensions: ['yaml', 'yml'] }]);
            if (file) await add(file);
          }}
        >
          Add cluster.yaml…
        </button>
      </div>
    );
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    if (p) void add(p);
  };
  return (
    <form className="add-workspace" aria-label="Add workspace" onSubmit={onSubmit}>
      <label htmlFor="workspace-path">Workspace path</label>
      <div className="row">
        <input
          id="workspace-path"
          type="text"
          value={path}
          placeholder="/path/to/project or cluster.yaml"
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="button" onClick={() => setBrowsing(true)} aria-label="Browse for the workspace path">
          Browse…
        </button>
        <button type="submit" className="primary" disabled={busy || path.trim() === ''}>
          Add
        </button>
      </div>
      {browsing ? (
        <FolderPicker
          {...(path.trim() ? { start: path.trim() } : {})}
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setBrowsing(false);
            setPath(p);
          }}
        />
      ) : null}
    </form>
  );
}
