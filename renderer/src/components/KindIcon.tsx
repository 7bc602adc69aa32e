import { assertNever, type WorkspaceKind } from '../../../preload/contract';

/** Rack of servers: an HPC cluster. */
function ClusterIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <rect x="4" y="3" width="16" height="5" rx="1" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <rect x="4" y="10" width="16" height="5" rx="1" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <rect x="4" y="17" width="16" height="4" rx="1" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <circle cx="7.5" cy="5.5" r="1" fill="currentColor" />
      <circle cx="7.5" cy="12.5" r="1" fill="currentColor" />
      <circle cx="7.5" cy="19" r="1" fill="currentColor" />
    </svg>
  );
}

/** A hub with spokes: a federation of machines around a server. */
function FederationIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="3" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <circle cx="4.5" cy="5" r="2" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <circle cx="19.5" cy="5" r="2" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <circle cx="12" cy="21" r="2" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M6 6.5 9.8 10M18 6.5 14.2 10M12 15v4" stroke="currentColor" strokeWidth="1.6" />
    </svg>
  );
}

/** The workspace kind as an icon with a text alternative. */
export function KindIcon({ kind }: { readonly kind: WorkspaceKind }) {
  const label = kindLabel(kind);
  return (
    <span className="kind-icon" role="img" aria-label={label} title={label}>
      {kind === 'cluster' ? <ClusterIcon /> : <FederationIcon />}
    </span>
  );
}

export function kindLabel(kind: WorkspaceKind): string {
  switch (kind) {
    case 'cluster':
      return 'Cluster';
    case 'federation':
      return 'Federation';
    default:
      return assertNever(kind);
  }
}
