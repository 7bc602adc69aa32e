import { useEffect, useState } from 'react';
import type { AdoptionItem, AdoptionPreview, WorkspaceSnapshot } from '../../../preload/contract';
import { getApi } from '../bridge';
import { runOperation } from '../stores/actions';
import { useErrors } from '../stores/errors-store';
import { Dialog } from './Dialog';

const ADOPT_TITLE = 'Could not adopt the state';

/** Asks main what adopting would take over; null while unknown or when the state is ours already. */
function useAdoptionPreview(snapshot: WorkspaceSnapshot): AdoptionPreview | null {
  const [answer, setAnswer] = useState<{ key: string; preview: AdoptionPreview } | null>(null);
  // Files written by ReFedEz / AI-HOW carry no serial; ours always do, so only those are asked about.
  const candidate = snapshot.status !== null && snapshot.serial === null && !snapshot.error;
  const key = `${snapshot.id}:${snapshot.lastModified ?? ''}`;
  useEffect(() => {
    let live = true;
    if (!candidate) return;
    void getApi()
      .invoke('state:adopt-preview', { workspaceId: snapshot.id })
      .then((r) => {
        if (live && r.ok && r.value.needed) setAnswer({ key, preview: r.value });
      });
    return () => {
      live = false;
    };
  }, [snapshot.id, candidate, key]);
  return candidate && answer?.key === key ? answer.preview : null;
}

/** The notice shown while a workspace's state was written by ReFedEz or AI-HOW, with the Adopt… button. */
export function AdoptNotice({ snapshot, busy }: { readonly snapshot: WorkspaceSnapshot; readonly busy: boolean }) {
  const preview = useAdoptionPreview(snapshot);
  const [open, setOpen] = useState(false);
  if (!preview) return null;
  const tool = preview.format === 'refedez' ? 'ReFedEz' : 'AI-HOW';
  return (
    <div className="banner banner-info" role="status" aria-label="Adoption needed">
      <p>
        This state was written by {tool}. It is shown as recorded, but Clusterdesk operates it only after you adopt it (lineage and serial assigned, the
        original kept in history without its passwords).
      </p>
      <button type="button" className="primary" disabled={busy} onClick={() => setOpen(true)}>
        Adopt this state…
      </button>
      {open ? <AdoptDialog preview={preview} workspaceId={snapshot.id} onClose={() => setOpen(false)} /> : null}
    </div>
  );
}

function ItemList({ items, label }: { readonly items: readonly AdoptionItem[]; readonly label: string }) {
  if (items.length === 0) return null;
  return (
    <div className="table-wrap">
      <table className="data-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">What</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={`${i.kind}:${i.name}:${i.detail}`}>
              <td>{i.kind}</td>
              <td>{i.name}</td>
              <td className="small">{i.detail}</td>
              <td className="small">{i.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The preview of an adoption: what is taken over, what is left alone, which secrets are not kept. */
export function AdoptDialog({
  preview,
  workspaceId,
  onClose,
}: {
  readonly preview: AdoptionPreview;
  readonly workspaceId: string;
  readonly onClose: () => void;
}) {
  const [adopting, setAdopting] = useState(false);
  const taken = preview.items.filter((i) => i.matched);
  const left = preview.items.filter((i) => !i.matched);
  return (
    <Dialog
      title="Adopt this state"
      wide
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose} autoFocus>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={adopting}
            onClick={async () => {
              setAdopting(true);
              const r = await runOperation('state:adopt', { workspaceId });
              setAdopting(false);
              if (r.ok) {
                useErrors.getState().clear(ADOPT_TITLE, workspaceId);
                onClose();
              } else useErrors.getState().push(ADOPT_TITLE, r.error, workspaceId);
            }}
          >
            Adopt
          </button>
        </>
      }
    >
      <p>{preview.message}</p>
      <h3>Taken over ({taken.length})</h3>
      {taken.length ? <ItemList items={taken} label="Taken over" /> : <p className="muted">Nothing could be proved ours.</p>}
      {left.length ? (
        <>
          <h3>Not matched — left alone, never operated on ({left.length})</h3>
          <ItemList items={left} label="Left alone" />
        </>
      ) : null}
      {preview.secretsDropped.length ? (
        <p className="small">
          Not kept (also removed from the original kept in history): <code>{preview.secretsDropped.join(', ')}</code>
        </p>
      ) : null}
      {preview.keptFields.length ? (
        <p className="small muted">
          Kept as written: <code>{preview.keptFields.join(', ')}</code>
        </p>
      ) : null}
    </Dialog>
  );
}
