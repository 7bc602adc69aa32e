import { statusVariant, vmStateVariant, type DisplayStatus } from '../lib/status';

/** The recorded status as a coloured word; the word itself carries the meaning, colour only reinforces it. */
export function StatusBadge({ status, id }: { readonly status: DisplayStatus; readonly id?: string }) {
  return (
    <span id={id} className={`badge badge-${statusVariant(status)}`}>
      {status}
    </span>
  );
}

export function VmStateBadge({ state }: { readonly state: string }) {
  return <span className={`badge badge-${vmStateVariant(state)}`}>{state}</span>;
}
