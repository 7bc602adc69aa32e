import { badgeFor, vmStateVariant, type DisplayStatus } from '../lib/status';

/**
 * The recorded status as a coloured word (the word carries the meaning, colour only reinforces it), with its
 * definition on hover. While an operation that moves the status runs (`operation`), the transient word shows instead
 * (`starting`, not the `partial` a start records on its way).
 */
export function StatusBadge({ status, id, operation }: { readonly status: DisplayStatus; readonly id?: string; readonly operation?: string | null }) {
  const b = badgeFor(status, operation);
  return (
    <span id={id} className={`badge badge-${b.variant}`} title={b.definition} data-status={status}>
      {b.word}
    </span>
  );
}

export function VmStateBadge({ state }: { readonly state: string }) {
  return <span className={`badge badge-${vmStateVariant(state)}`}>{state}</span>;
}
