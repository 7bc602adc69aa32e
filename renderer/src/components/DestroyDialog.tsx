import { useId, useState } from 'react';
import type { ClusterDetail } from '../../../preload/contract';
import { Dialog } from './Dialog';
import { NameList } from './NameList';

interface Props {
  readonly cluster: ClusterDetail;
  /** Used when the state names no cluster (nothing recorded yet). */
  readonly fallbackName: string;
  readonly onCancel: () => void;
  readonly onConfirm: (confirm: string) => void;
}

/** Destroy lists everything it will delete and, like GitHub's repo deletion, wants the name typed. */
export function DestroyDialog({ cluster, fallbackName, onCancel, onConfirm }: Props) {
  const name = cluster.clusterName || fallbackName;
  const [typed, setTyped] = useState('');
  const inputId = useId();
  const formId = useId();
  const total = cluster.vms.length + cluster.networks.length + cluster.volumes.length + cluster.pools.length;
  return (
    <Dialog
      title={`Destroy cluster ${name}?`}
      wide
      onClose={onCancel}
      actions={
        <>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" form={formId} className="danger" disabled={typed !== name}>
            Destroy cluster
          </button>
        </>
      }
    >
      <p>
        This stops and undefines every VM, deletes every volume, the storage pool and the network, then clears the state. It cannot be undone. {total} recorded
        resource{total === 1 ? '' : 's'}:
      </p>
      <div className="destroy-list">
        <ResourceGroup title="VMs" items={cluster.vms.map((v) => v.name)} />
        <ResourceGroup title="Networks" items={cluster.networks.map((n) => n.name)} />
        <ResourceGroup title="Volumes" items={cluster.volumes.map((v) => v.name)} />
        <ResourceGroup title="Storage pools" items={cluster.pools.map((p) => p.name)} />
      </div>
      <form
        id={formId}
        className="typed-confirm"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed === name) onConfirm(typed);
        }}
      >
        <label htmlFor={inputId}>
          Type <strong className="mono">{name}</strong> to confirm
        </label>
        <input id={inputId} type="text" autoFocus autoComplete="off" spellCheck={false} value={typed} onChange={(e) => setTyped(e.target.value)} />
      </form>
    </Dialog>
  );
}

function ResourceGroup({ title, items }: { readonly title: string; readonly items: readonly string[] }) {
  return <NameList title={title} label={`${title} to delete`} items={items} whenEmpty="none" />;
}
