import { statusVariant, vmStateVariant, type DisplayStatus } from '../lib/status';

/** The recorded status as a coloured word; the word itself carries the meaning, colour only reinforces it. */
export function StatusBadge({ status }: { readonly status: DisplayStatus }) {
  return <span className={`badge badge-${statusVariant(status)}`}>{status}</span>;
}

export function VmStateBadge({ state }: { readonly state: string }) {
  return <span className={`badge badge-${vmStateVariant(state)}`}>{state}</span>;
}
