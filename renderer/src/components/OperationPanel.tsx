import type { ProgressEvent, TargetOutcome, WorkspaceSnapshot } from '../../../preload/contract';
import { operationLabel } from '../lib/snapshot';
import { cancelOperation } from '../stores/actions';
import { useOperations } from '../stores/operations-store';
import { EMPTY_OPS, isBusy, progressRows } from '../stores/reducers';
import { ErrorBanner } from './ErrorBanner';
import { VirtualList } from './VirtualList';

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
          <VirtualList
            className="progress-list progress-vlist"
            label="Progress per target"
            items={rows}
            getKey={(r) => r.target}
            maxRows={10}
            render={(r) => <ProgressLine row={r} />}
          />
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

type ProgressRow = ProgressEvent;

/** One target's progress: name, bar (indeterminate until it reports a fraction), last message. */
export function ProgressLine({ row, done = false }: { readonly row: ProgressRow; readonly done?: boolean }) {
  const label = row.target === '' ? 'Overall' : row.target;
  const value = row.value === null ? (done ? 1 : null) : Math.max(0, Math.min(1, row.value));
  return (
    <span className={`progress-line level-${row.level}`}>
      <span className="progress-target mono" title={label}>
        {label}
      </span>
      {value === null ? (
        <progress className="progress" aria-label={`${label} progress`} />
      ) : (
        <progress className="progress" aria-label={`${label} progress`} max={1} value={value} />
      )}
      <span className="progress-message">{row.message}</span>
    </span>
  );
}

/** Per-target outcomes, windowed: a 10,000-VM stop renders only the rows in view. */
export function Outcomes({ outcomes, label = 'Outcomes' }: { readonly outcomes: readonly TargetOutcome[]; readonly label?: string }) {
  if (outcomes.length === 0) return null;
  return (
    <VirtualList
      className="outcome-list"
      label={label}
      items={outcomes}
      getKey={(o) => o.target}
      maxRows={10}
      render={(o) => (
        <span className={`outcome-line${o.error ? ' row-error' : ''}`}>
          <span className="mono" title={o.target || 'overall'}>
            {o.target || 'overall'}
          </span>
          <span>{o.result}</span>
          <span className="progress-message">{o.error ? `${o.error.code}: ${o.error.message}` : (o.message ?? '')}</span>
        </span>
      )}
    />
  );
}
