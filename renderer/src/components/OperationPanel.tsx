import type { TargetOutcome, WorkspaceSnapshot } from '../../../preload/contract';
import { operationLabel } from '../lib/snapshot';
import { cancelOperation } from '../stores/actions';
import { useOperations } from '../stores/operations-store';
import { EMPTY_OPS, isBusy, progressRows } from '../stores/reducers';
import { ErrorBanner } from './ErrorBanner';

/** How many recent progress messages the log region shows; the store keeps more. */
const VISIBLE_LOG = 80;

const SELF_REPORTING: ReadonlySet<string> = new Set(['cluster:refresh', 'federation:probe']);

/**
 * The running operation (progress per target, a log of messages, Cancel) and, once it ends, its per-target outcomes
 * or its failure.
 */
export function OperationPanel({ snapshot }: { readonly snapshot: WorkspaceSnapshot }) {
  const ops = useOperations((s) => s.byWorkspace[snapshot.id]) ?? EMPTY_OPS;
  const busy = isBusy(ops, snapshot);
  const opId = ops.opId ?? snapshot.operation?.opId ?? null;
  const name = ops.operation ?? snapshot.operation?.name ?? ops.pending;

  if (busy) {
    const rows = progressRows(ops);
    const log = ops.log.slice(-VISIBLE_LOG);
    return (
      <section className="operation running" aria-label="Operation">
        <div className="operation-head">
          <span className="spinner" aria-hidden="true" />
          <strong>{name ? operationLabel(name) : 'Working'}…</strong>
          <span className="spacer" />
          <button type="button" aria-label="Cancel operation" disabled={!opId} onClick={() => opId && void cancelOperation(snapshot.id, opId)}>
            Cancel
          </button>
        </div>
        {rows.length === 0 ? (
          <progress className="progress" aria-label={`${name ? operationLabel(name) : 'Operation'} progress`} />
        ) : (
          <ul className="progress-list">
            {rows.map((r) => {
              const label = r.target === '' ? 'Overall' : r.target;
              return (
                <li key={r.target} className={`progress-row level-${r.level}`}>
                  <span className="progress-target">{label}</span>
                  {r.value === null ? (
                    <progress className="progress" aria-label={`${label} progress`} />
                  ) : (
                    <progress className="progress" aria-label={`${label} progress`} max={1} value={Math.max(0, Math.min(1, r.value))} />
                  )}
                  <span className="progress-message">{r.message}</span>
                </li>
              );
            })}
          </ul>
        )}
        {log.length > 0 ? (
          <ol role="log" aria-label="Operation log" className="op-log">
            {log.map((ev, i) => (
              <li key={`${ops.log.length - log.length + i}`} className={`level-${ev.level}`}>
                {ev.target ? <span className="mono">{ev.target}: </span> : null}
                {ev.message}
              </li>
            ))}
          </ol>
        ) : null}
      </section>
    );
  }

  const last = ops.last;
  if (!last) return null;
  const label = operationLabel(last.operation);
  const dismiss = () => useOperations.getState().dismiss(snapshot.id);

  if (!last.ok && last.error) {
    const changed = last.error.code === 'ssh-hostkey-changed';
    return (
      <section className="operation failed" aria-label="Operation">
        <ErrorBanner
          title={
            changed ? `WARNING: the host key has changed — ${label} was refused` : last.error.code === 'cancelled' ? `${label} cancelled` : `${label} failed`
          }
          error={last.error}
          severity={changed ? 'critical' : 'error'}
          onDismiss={dismiss}
        >
          {changed ? (
            <p className="critical-note">
              Someone may be intercepting the connection, or the machine was reinstalled. Clusterdesk will not connect until the old key is removed from the
              known hosts by hand after checking with the machine's administrator.
            </p>
          ) : null}
        </ErrorBanner>
        <Outcomes outcomes={last.outcomes} />
      </section>
    );
  }

  // Refresh and probe show their own reports (drift report, probe column); their outcomes would only repeat them.
  if (last.ok && SELF_REPORTING.has(last.operation)) return null;
  const failed = last.outcomes.filter((o) => o.error).length;
  return (
    <section className="operation done" aria-label="Operation">
      <div className="operation-head">
        <p role="status">
          {label} {last.ok ? 'finished' : 'failed'}
          {failed > 0 ? ` — ${failed} of ${last.outcomes.length} targets reported a problem` : ''}
        </p>
        <span className="spacer" />
        <button type="button" className="icon-button" aria-label="Dismiss" onClick={dismiss}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <Outcomes outcomes={last.outcomes} />
    </section>
  );
}

function Outcomes({ outcomes }: { readonly outcomes: readonly TargetOutcome[] }) {
  if (outcomes.length === 0) return null;
  return (
    <div className="table-wrap outcomes">
      <table className="data-table" aria-label="Outcomes">
        <thead>
          <tr>
            <th scope="col">Target</th>
            <th scope="col">Result</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {outcomes.map((o) => (
            <tr key={o.target} className={o.error ? 'row-error' : undefined}>
              <td className="mono">{o.target}</td>
              <td>{o.result}</td>
              <td>{o.error ? `${o.error.code}: ${o.error.message}` : (o.message ?? '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
