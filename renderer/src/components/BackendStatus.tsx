import type { WorkspaceSnapshot } from '../../../preload/contract';
import { ErrorBanner } from './ErrorBanner';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `10:02` in local time (the holder line reads like a sentence); the full time is in the title. */
function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The workspace header's line about where the state lives and who holds it: "PostgreSQL host:port/db#key" for a
 * workspace on a database, and "locked by alice@ws2: stop, since 10:02" while another desk (or process) runs an
 * operation on it. Renders nothing for a local, unlocked workspace.
 */
export function BackendStatus({ snapshot }: { readonly snapshot: WorkspaceSnapshot }) {
  const lock = snapshot.operation ? null : snapshot.lock;
  if (!snapshot.backend && !lock) return null;
  return (
    <span className="backend-status small" data-testid="backend-status">
      {snapshot.backend ? (
        <span className="backend-label" title={snapshot.backend.label}>
          PostgreSQL · {snapshot.backend.key}
          {snapshot.stale ? <strong className="warn-text"> (offline)</strong> : null}
        </span>
      ) : null}
      {lock ? (
        <span className="backend-lock" role="status" title={`pid ${lock.pid}, lock ${lock.id}, since ${lock.since}`}>
          locked by {lock.host}: {lock.operation}, since {clock(lock.since)}
        </span>
      ) : null}
    </span>
  );
}

/** The state backend is away: what is shown is the last state read, with the error naming host and port. */
export function StaleBanner({ snapshot }: { readonly snapshot: WorkspaceSnapshot }) {
  if (!snapshot.stale) return null;
  return (
    <div data-testid="stale-banner">
      <ErrorBanner title={`Showing the last state read at ${clock(snapshot.stale.since)}: the state backend cannot be reached`} error={snapshot.stale.error} />
    </div>
  );
}
