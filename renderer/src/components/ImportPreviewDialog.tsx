import { useState } from 'react';
import { importChanges, importNeeds } from '../lib/format';
import { applyImport } from '../stores/actions';
import { useImport, type PendingImport } from '../stores/import-store';
import { ChangeTable } from './ChangeTable';
import { Dialog } from './Dialog';
import { NameList } from './NameList';

const VERDICT_TEXT = {
  accept: 'Can be imported',
  'needs-force': 'Older than the current state — importing needs Force',
  'needs-adopt': 'From another lineage — importing needs Adopt',
  identical: 'Identical to the current state — nothing to import',
} as const;

/** Preview of a state file about to be imported, with the overrides its verdict requires. */
export function ImportPreviewDialog() {
  const pending = useImport((s) => s.pending);
  if (!pending) return null;
  // Keyed so the checkboxes reset for every new file.
  return <ImportPreviewBody key={`${pending.workspaceId}:${pending.fileName}:${pending.content.length}`} pending={pending} />;
}

function ImportPreviewBody({ pending }: { readonly pending: PendingImport }) {
  const close = () => useImport.getState().set(null);
  const { preview } = pending;
  const needs = importNeeds(preview.verdict);
  const [force, setForce] = useState(false);
  const [adopt, setAdopt] = useState(false);
  const [applying, setApplying] = useState(false);
  const ready = !needs.noop && (!needs.force || force) && (!needs.adopt || adopt) && !applying;

  return (
    <Dialog
      title={`Import ${pending.fileName}`}
      wide
      onClose={close}
      actions={
        <>
          <button type="button" onClick={close} autoFocus>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={!ready}
            onClick={async () => {
              setApplying(true);
              const ok = await applyImport(pending.workspaceId, pending.content, force, adopt);
              setApplying(false);
              if (ok) close();
            }}
          >
            Apply
          </button>
        </>
      }
    >
      <p className={`verdict verdict-${preview.verdict}`}>
        <strong>{VERDICT_TEXT[preview.verdict]}</strong>
      </p>
      <p>{preview.reason}</p>
      <ChangeTable label="Current and incoming state" rows={importChanges(preview)} />
      <DiffList title="Added" items={preview.added} />
      <DiffList title="Removed" items={preview.removed} />
      <DiffList title="Changed" items={preview.changed} />
      {needs.force ? (
        <label className="check">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          Force: overwrite the newer current state
        </label>
      ) : null}
      {needs.adopt ? (
        <label className="check">
          <input type="checkbox" checked={adopt} onChange={(e) => setAdopt(e.target.checked)} />
          Adopt: make the incoming lineage this workspace's lineage
        </label>
      ) : null}
    </Dialog>
  );
}

function DiffList({ title, items }: { readonly title: string; readonly items: readonly string[] }) {
  return <NameList title={title} label={`${title} resources`} items={items} className="diff-list" whenEmpty="hide" />;
}
