import { useCallback, useEffect, useState } from 'react';
import type { ErrorData, FolderListing } from '../../../preload/contract';
import { getApi } from '../bridge';
import { Dialog } from './Dialog';

/**
 * The host's folder picker for `serve`: the page cannot see the host's disk, so main lists folders under one root
 * (`fs:list-dirs`). Opening a folder enters it; "Choose this folder" (or a YAML file) fills the path field.
 */
export function FolderPicker({ start, onPick, onClose }: { readonly start?: string; readonly onPick: (path: string) => void; readonly onClose: () => void }) {
  const [listing, setListing] = useState<FolderListing | null>(null);
  const [error, setError] = useState<ErrorData | null>(null);

  const open = useCallback(async (path?: string) => {
    const r = await getApi().invoke('fs:list-dirs', path ? { path } : {});
    if (r.ok) {
      setListing(r.value);
      setError(null);
    } else setError(r.error);
  }, []);

  useEffect(() => {
    let live = true;
    void getApi()
      .invoke('fs:list-dirs', start ? { path: start } : {})
      .then((r) => {
        if (!live) return;
        if (r.ok) setListing(r.value);
        else setError(r.error);
      });
    return () => {
      live = false;
    };
    // Only on open: `start` is the field's value at that moment.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <Dialog
      title="Choose a folder on the host"
      wide
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={!listing} onClick={() => listing && onPick(listing.path)}>
            Choose this folder
          </button>
        </>
      }
    >
      {error ? (
        <p role="alert" className="error-text">
          {error.message}
          {error.hint ? ` ${error.hint}` : ''}
        </p>
      ) : null}
      {listing ? (
        <>
          <p className="mono small picker-path" aria-live="polite">
            {listing.path}
          </p>
          <ul className="picker-list" aria-label="Folders">
            {listing.parent ? (
              <li>
                <button type="button" className="picker-item" onClick={() => void open(listing.parent!)}>
                  <span aria-hidden="true">↑ </span>Up to parent folder
                </button>
              </li>
            ) : null}
            {listing.entries.map((e) => (
              <li key={e.path}>
                <button
                  type="button"
                  className="picker-item"
                  aria-label={e.kind === 'dir' ? `Open ${e.name}` : `Choose ${e.name}`}
                  onClick={() => (e.kind === 'dir' ? void open(e.path) : onPick(e.path))}
                >
                  <span aria-hidden="true">{e.kind === 'dir' ? '📁 ' : '📄 '}</span>
                  {e.name}
                </button>
              </li>
            ))}
          </ul>
          {listing.entries.length === 0 ? <p className="muted small">No folders here.</p> : null}
          {listing.truncated ? <p className="muted small">Only the first {listing.entries.length} entries are shown; type the path for others.</p> : null}
          <p className="muted small">Shows folders under {listing.root} only.</p>
        </>
      ) : !error ? (
        <p className="muted">Loading…</p>
      ) : null}
    </Dialog>
  );
}
